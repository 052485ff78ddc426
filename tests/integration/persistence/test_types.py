"""The column types: exact decimals, aware UTC instants, refusals instead of silent rounding."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.tables.calls import call_journal, ledger_entries
from adapters.persistence.types import canonical, check_storable
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0.000300000000000000", "0.0003"),
        ("100.000", "100"),
        ("1E+2", "100"),
        ("1E-18", "0.000000000000000001"),
        ("-0.50", "-0.5"),
        ("0E-18", "0"),
        ("12345678901234567890.123456789012345678", "12345678901234567890.123456789012345678"),
    ],
)
def test_canonical_drops_trailing_zeros_and_never_uses_exponents(given: str, expected: str) -> None:
    result = canonical(Decimal(given))
    assert format(result, "f") == expected
    assert result == Decimal(given)
    assert result.as_tuple().exponent <= 0


@pytest.mark.parametrize(
    "value",
    [
        Decimal("0.0000000000000000001"),  # 19 decimals would be rounded
        Decimal("123456789012345678901"),  # 21 integer digits overflow NUMERIC(38, 18)
        Decimal("NaN"),
        Decimal("Infinity"),
        0.1,
        True,
        "1.5",
    ],
)
def test_unstorable_amounts_are_refused(value: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        check_storable(value)


async def _insert_entry(engine: AsyncEngine, **values: object) -> None:
    client = builders.client()
    async with SqlAlchemyUnitOfWork(engine) as tx:
        await tx.clients.add(client)
        await tx.commit()
    row = {
        "id": "e1",
        "client_id": client.id,
        "kind": "fee",
        "amount": Decimal(1),
        "currency": "USD",
        "occurred_at": T0,
        "reference": "r",
        "description": "",
    } | values
    async with engine.begin() as conn:
        await conn.execute(insert(ledger_entries).values(**row))


async def test_a_plain_insert_works(engine: AsyncEngine) -> None:
    await _insert_entry(engine, amount=Decimal("-0.25"))
    async with engine.connect() as conn:
        stored = (await conn.execute(select(ledger_entries.c.amount))).scalar_one()
    assert stored == Decimal("-0.25")


@pytest.mark.parametrize(
    "values",
    [
        {"occurred_at": datetime(2025, 1, 1, 12)},  # naive: refused
        {"amount": Decimal("0.0000000000000000001")},
        {"amount": 0.5},
    ],
    ids=["naive-datetime", "19-decimals", "float"],
)
async def test_the_database_refuses_what_it_cannot_store_exactly(
    engine: AsyncEngine, values: dict[str, object]
) -> None:
    with pytest.raises(StatementError) as caught:
        await _insert_entry(engine, **values)
    assert isinstance(caught.value.orig, TypeError | ValueError)  # refused before the database


async def test_instants_are_stored_in_utc_and_read_back_aware(
    engine: AsyncEngine, backend: str
) -> None:
    entry = builders.journal(request_id="r1", started_at=T0)
    async with engine.begin() as conn:
        await conn.execute(
            insert(call_journal).values(
                request_id="r1",
                client_id=entry.client_id,
                api_key_id=entry.api_key_id,
                model_id=entry.model_id,
                started_at=T0,
                max_output_tokens=1,
                state="started",
            )
        )
    async with engine.connect() as conn:
        stored = (await conn.execute(select(call_journal.c.started_at))).scalar_one()
        raw = (await conn.execute(text("SELECT started_at FROM call_journal"))).scalar_one()
    assert stored == T0
    assert stored.tzinfo is UTC
    assert stored.isoformat() == "2025-03-01T07:00:15.123456+00:00"
    if backend == "sqlite":
        assert raw == "2025-03-01 07:00:15.123456"  # UTC text that sorts chronologically
    else:
        assert raw == T0


async def test_amounts_are_exact_text_on_sqlite_and_numeric_on_postgres(
    engine: AsyncEngine, backend: str
) -> None:
    amount = Decimal("12345678901234567890.000000000000000001")
    await _insert_entry(engine, amount=amount)
    async with engine.connect() as conn:
        raw = (await conn.execute(text("SELECT amount FROM ledger_entries"))).scalar_one()
        stored = (await conn.execute(select(ledger_entries.c.amount))).scalar_one()
    assert stored == amount
    assert format(stored, "f") == "12345678901234567890.000000000000000001"
    if backend == "sqlite":
        assert raw == "12345678901234567890.000000000000000001"  # TEXT, never a REAL
    else:
        assert raw == amount
