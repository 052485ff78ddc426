"""Settled estimates (domain/metering/estimate_settlements.py): one row per usage record, and the
estimated usage records the reconciliation page lists across clients."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import insert_unless_exists
from adapters.persistence.repositories.invoice_rows import token_values
from adapters.persistence.repositories.usage import usage_from_row
from adapters.persistence.tables.calls import usage_records
from adapters.persistence.tables.reconciliation import estimate_settlements
from domain.billing.money import Money
from domain.invoicing.ports import SettlementRepository
from domain.metering.estimate_settlements import EstimateSettlement, SettlementOutcome
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageRecord, UsageSource
from domain.timeutil import require_aware

_SETTLED = estimate_settlements.c
_BILLED = SettlementOutcome.BILLED.value


def _row(settlement: EstimateSettlement) -> dict[str, Any]:
    return {
        "id": settlement.id,
        "usage_record_id": settlement.record.id,
        "client_id": settlement.client_id,
        **token_values(settlement.actual),
        "cost_delta": settlement.cost_delta.amount,
        "charge_delta": settlement.charge_delta.amount,
        "delta_currency": settlement.charge_delta.currency,
        "amount": settlement.amount.amount,
        "currency": settlement.amount.currency,
        "outcome": settlement.outcome.value,
        "reason": settlement.reason,
        "actor": settlement.actor,
        "settled_at": settlement.settled_at,
        "reference": settlement.reference,
        "invoice_id": settlement.invoice_id,
    }


def _settlement(row: RowMapping, record: UsageRecord) -> EstimateSettlement:
    delta_currency = row["delta_currency"]
    return EstimateSettlement(
        id=row["id"],
        record=record,
        actual=TokenUsage(
            input_tokens=row["input_tokens"],
            output_tokens=row["output_tokens"],
            cached_input_tokens=row["cached_input_tokens"],
            cache_write_tokens=row["cache_write_tokens"],
            reasoning_tokens=row["reasoning_tokens"],
        ),
        cost_delta=Money(row["cost_delta"], delta_currency),
        charge_delta=Money(row["charge_delta"], delta_currency),
        amount=Money(row["amount"], row["currency"]),
        outcome=SettlementOutcome(row["outcome"]),
        reason=row["reason"],
        actor=row["actor"],
        settled_at=row["settled_at"],
        reference=row["reference"],
        invoice_id=row["invoice_id"],
    )


class SqlAlchemySettlementRepository(SettlementRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(self, record_id: str, *, for_update: bool = False) -> UsageRecord | None:
        statement = select(usage_records).where(usage_records.c.id == record_id)
        if for_update and self._conn.dialect.name == "postgresql":
            statement = statement.with_for_update()
        row = (await self._conn.execute(statement)).mappings().first()
        return None if row is None else usage_from_row(row)

    async def add(self, settlement: EstimateSettlement) -> bool:
        row = _row(settlement)
        return await insert_unless_exists(
            self._conn, estimate_settlements, row, ["usage_record_id"]
        )

    async def for_records(self, record_ids: Sequence[str]) -> Sequence[EstimateSettlement]:
        if not record_ids:
            return []
        return await self._load(_SETTLED.usage_record_id.in_(list(record_ids)))

    async def estimated(
        self, start: datetime, end: datetime, providers: Sequence[str] | None, limit: int
    ) -> Sequence[UsageRecord]:
        require_aware(start, "start")
        require_aware(end, "end")
        column = usage_records.c
        statement = (
            select(usage_records)
            .where(column.source == UsageSource.ESTIMATED.value)
            .where(column.byok.is_(False))  # on the client's own provider account
            .where(column.started_at >= start, column.started_at < end)
            .order_by(column.started_at, column.request_id, column.attempt)
            .limit(limit)
        )
        if providers is not None:
            statement = statement.where(column.provider.in_(list(providers)))
        result = await self._conn.execute(statement)
        return [usage_from_row(row) for row in result.mappings()]

    async def take_billed(self, invoice_id: str, client_id: str) -> Sequence[EstimateSettlement]:
        await self._conn.execute(
            update(estimate_settlements)
            .where(_SETTLED.client_id == client_id, _SETTLED.outcome == _BILLED)
            .where(_SETTLED.invoice_id.is_(None))
            .values(invoice_id=invoice_id)
        )
        return await self._load(_SETTLED.invoice_id == invoice_id)

    async def pending_billed(self, client_id: str) -> Sequence[EstimateSettlement]:
        return await self._load(
            (_SETTLED.client_id == client_id)
            & (_SETTLED.outcome == _BILLED)
            & _SETTLED.invoice_id.is_(None)
        )

    async def release(self, invoice_id: str) -> None:
        await self._conn.execute(
            update(estimate_settlements)
            .where(_SETTLED.invoice_id == invoice_id)
            .values(invoice_id=None)
        )

    async def _load(self, where: Any) -> list[EstimateSettlement]:
        statement = (
            select(estimate_settlements, *_record_columns())
            .join(usage_records, usage_records.c.id == _SETTLED.usage_record_id)
            .where(where)
            .order_by(_SETTLED.settled_at, _SETTLED.id)
        )
        settled = []
        for row in (await self._conn.execute(statement)).mappings():
            record = usage_from_row({k[2:]: v for k, v in row.items() if k.startswith("r_")})
            settled.append(_settlement(row, record))
        return settled


def _record_columns() -> list[Any]:
    """The usage record's columns, prefixed `r_` (both tables have ids and token columns)."""
    return [column.label(f"r_{column.name}") for column in usage_records.c]
