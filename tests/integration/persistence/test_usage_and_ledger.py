"""Usage records and ledger entries: exact money, idempotent writes, exact balances."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from decimal import Decimal

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.access.keys import ApiKey
from domain.billing.clients import Client
from domain.billing.money import Money
from domain.invoicing.ledger import EntryKind
from domain.metering.usage import CallStatus, UsageSource
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0, T0_UTC

UowFactory = Callable[[], SqlAlchemyUnitOfWork]

TINY = Decimal("0.000000000000000001")
HUGE = Decimal("12345678901234567890.123456789012345678")  # 20 integer digits, 18 decimals


async def seed(uow: UowFactory) -> tuple[Client, ApiKey]:
    client = builders.client()
    key = builders.key(client.id)
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.keys.add(key)
        await tx.commit()
    return client, key


async def test_usage_record_round_trips_exactly(uow: UowFactory) -> None:
    client, key = await seed(uow)
    record = builders.usage(
        client.id,
        key.id,
        cost=Money(TINY, "USD"),
        charge=Money(HUGE, "USD"),
        plan_version_id=None,
        status=CallStatus.FAILED,
        source=UsageSource.ESTIMATED,
    )
    async with uow() as tx:
        assert await tx.usage.add(record) is True
        await tx.commit()

    async with uow() as tx:
        stored = await tx.usage.for_request(record.request_id)

    assert list(stored) == [record]
    assert stored[0].cost.amount == Decimal("1E-18")
    assert str(stored[0].charge.amount) == "12345678901234567890.123456789012345678"
    assert stored[0].usage == record.usage
    assert stored[0].started_at == T0_UTC
    assert stored[0].started_at.tzinfo is UTC
    assert stored[0].plan_version_id is None


async def test_amounts_come_back_without_trailing_zeros(uow: UowFactory) -> None:
    client, key = await seed(uow)
    record = builders.usage(
        client.id,
        key.id,
        cost=Money(Decimal("0.0003"), "USD"),
        charge=Money(Decimal("0.000360000000"), "USD"),
    )
    async with uow() as tx:
        await tx.usage.add(record)
        await tx.commit()
    async with uow() as tx:
        (stored,) = await tx.usage.for_request(record.request_id)
    assert str(stored.cost.amount) == "0.0003"
    assert str(stored.charge.amount) == "0.00036"


async def test_usage_add_is_idempotent_on_request_and_attempt(uow: UowFactory) -> None:
    client, key = await seed(uow)
    first = builders.usage(client.id, key.id, request_id="req-1", attempt=1)
    retry = builders.usage(client.id, key.id, request_id="req-1", attempt=1, latency_ms=5)
    second_attempt = builders.usage(client.id, key.id, request_id="req-1", attempt=2)
    async with uow() as tx:
        assert await tx.usage.add(first) is True
        await tx.commit()
    async with uow() as tx:
        assert await tx.usage.add(retry) is False
        # the transaction is still usable after the ignored duplicate
        assert await tx.usage.add(second_attempt) is True
        await tx.commit()

    async with uow() as tx:
        stored = await tx.usage.for_request("req-1")
    assert [(r.attempt, r.id) for r in stored] == [(1, first.id), (2, second_attempt.id)]
    assert stored[0].latency_ms == first.latency_ms


async def test_usage_for_client_is_half_open_and_oldest_first(uow: UowFactory) -> None:
    client, key = await seed(uow)
    other_client, other_key = await seed(uow)
    hour = timedelta(hours=1)
    at_start = builders.usage(client.id, key.id, started_at=T0)
    inside = builders.usage(client.id, key.id, started_at=T0 + hour)
    at_end = builders.usage(client.id, key.id, started_at=T0 + 2 * hour)
    before = builders.usage(client.id, key.id, started_at=T0 - timedelta(microseconds=1))
    someone_else = builders.usage(other_client.id, other_key.id, started_at=T0 + hour)
    async with uow() as tx:
        for record in (inside, at_end, someone_else, before, at_start):
            assert await tx.usage.add(record)
        await tx.commit()

    async with uow() as tx:
        # the bounds are given in UTC, the records in another zone: same instants
        found = await tx.usage.for_client(client.id, T0.astimezone(UTC), T0 + 2 * hour)
    assert [r.id for r in found] == [at_start.id, inside.id]


async def test_ledger_round_trip_idempotent_append_and_exact_balance(uow: UowFactory) -> None:
    client, _ = await seed(uow)
    charge = builders.entry(client.id, TINY, reference="usage-1")
    big = builders.entry(
        client.id, HUGE, kind=EntryKind.INVOICE, occurred_at=T0 + timedelta(days=1)
    )
    payment = builders.entry(
        client.id,
        "-1234.5",
        kind=EntryKind.PAYMENT,
        description="wire",
        occurred_at=T0 + timedelta(days=2),
    )
    in_eur = builders.entry(client.id, "5", "EUR")
    async with uow() as tx:
        for entry in (charge, big, payment, in_eur):
            assert await tx.ledger.append(entry) is True
        await tx.commit()

    duplicate = builders.entry(client.id, "999", reference="usage-1")
    same_reference_other_kind = builders.entry(
        client.id, "1", reference="usage-1", kind=EntryKind.CREDIT
    )
    async with uow() as tx:
        assert await tx.ledger.append(duplicate) is False
        assert await tx.ledger.append(same_reference_other_kind) is True
        await tx.commit()

    async with uow() as tx:
        entries = await tx.ledger.entries(client.id)
        usd = await tx.ledger.balance(client.id, "USD")
        eur = await tx.ledger.balance(client.id, "EUR")
        nothing = await tx.ledger.balance(client.id, "GBP")

    assert len(entries) == 5
    assert {e.id for e in entries} == {
        charge.id,
        big.id,
        payment.id,
        in_eur.id,
        same_reference_other_kind.id,
    }
    assert [e.id for e in entries][-2:] == [big.id, payment.id]
    assert next(e for e in entries if e.id == charge.id) == charge
    assert next(e for e in entries if e.id == payment.id).description == "wire"
    assert usd == Money(Decimal("12345678901234566656.623456789012345679"), "USD")
    assert str(usd.amount) == "12345678901234566656.623456789012345679"
    assert eur == Money(Decimal(5), "EUR")
    assert nothing == Money(Decimal(0), "GBP")
    assert str(nothing.amount) == "0"


async def test_balance_of_many_small_charges_is_exact(uow: UowFactory) -> None:
    client, _ = await seed(uow)
    async with uow() as tx:
        for _ in range(200):
            await tx.ledger.append(builders.entry(client.id, "0.000000000000000001"))
        for _ in range(10):
            await tx.ledger.append(builders.entry(client.id, "0.1"))
        await tx.commit()
    async with uow() as tx:
        total = await tx.ledger.balance(client.id, "USD")
    assert total.amount == Decimal("1.0000000000000002")
    assert str(total.amount) == "1.0000000000000002"
