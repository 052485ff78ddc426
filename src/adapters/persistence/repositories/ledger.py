"""The append-only ledger: entries are inserted once and never updated or deleted."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import insert_unless_exists
from adapters.persistence.tables.calls import ledger_entries
from adapters.persistence.types import ExactDecimal, canonical
from domain.billing.money import Money, exact_sum
from domain.invoicing.ledger import EntryKind, LedgerEntry
from domain.invoicing.ports import LedgerRepository


def entry_to_row(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "client_id": entry.client_id,
        "kind": entry.kind.value,
        "amount": entry.amount.amount,
        "currency": entry.amount.currency,
        "occurred_at": entry.occurred_at,
        "reference": entry.reference,
        "description": entry.description,
    }


def entry_from_row(row: RowMapping) -> LedgerEntry:
    return LedgerEntry(
        id=row["id"],
        client_id=row["client_id"],
        kind=EntryKind(row["kind"]),
        amount=Money(row["amount"], row["currency"]),
        occurred_at=row["occurred_at"],
        reference=row["reference"],
        description=row["description"],
    )


class SqlAlchemyLedgerRepository(LedgerRepository):
    """Posting is idempotent on (client_id, kind, reference); balances are exact sums."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def append(self, entry: LedgerEntry) -> bool:
        return await insert_unless_exists(
            self._conn, ledger_entries, entry_to_row(entry), ["client_id", "kind", "reference"]
        )

    async def entries(self, client_id: str) -> Sequence[LedgerEntry]:
        statement = (
            select(ledger_entries)
            .where(ledger_entries.c.client_id == client_id)
            .order_by(ledger_entries.c.occurred_at, ledger_entries.c.id)
        )
        result = await self._conn.execute(statement)
        return [entry_from_row(row) for row in result.mappings()]

    async def balance(self, client_id: str, currency: str) -> Money:
        column = ledger_entries.c
        mine = (column.client_id == client_id, column.currency == currency)
        if self._conn.dialect.name == "postgresql":
            # NUMERIC sums are exact in PostgreSQL.
            total = select(func.sum(column.amount, type_=ExactDecimal())).where(*mine)
            amount = (await self._conn.execute(total)).scalar_one()
            return Money(Decimal(0) if amount is None else amount, currency)
        # SQLite would sum TEXT amounts as floats: add them up exactly here instead.
        result = await self._conn.execute(select(column.amount).where(*mine))
        return Money(canonical(exact_sum(*result.scalars())), currency)
