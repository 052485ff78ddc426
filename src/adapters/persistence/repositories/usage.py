"""Usage records: one per provider attempt, idempotent on (request_id, attempt)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import insert_unless_exists
from adapters.persistence.repositories.usage_totals import add_to_daily, usage_totals
from adapters.persistence.tables.calls import usage_records
from domain.billing.money import Money
from domain.metering.ports import UsageRepository
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageGrouping, UsageRecord, UsageSource, UsageTotals
from domain.timeutil import require_aware


def usage_to_row(record: UsageRecord) -> dict[str, Any]:
    tokens = record.usage
    return {
        "id": record.id,
        "request_id": record.request_id,
        "attempt": record.attempt,
        "client_id": record.client_id,
        "api_key_id": record.api_key_id,
        "model_id": record.model_id,
        "provider": record.provider,
        "input_tokens": tokens.input_tokens,
        "output_tokens": tokens.output_tokens,
        "cached_input_tokens": tokens.cached_input_tokens,
        "cache_write_tokens": tokens.cache_write_tokens,
        "reasoning_tokens": tokens.reasoning_tokens,
        "cost": record.cost.amount,
        "cost_currency": record.cost.currency,
        "charge": record.charge.amount,
        "charge_currency": record.charge.currency,
        "price_version_id": record.price_version_id,
        "plan_version_id": record.plan_version_id,
        "started_at": record.started_at,
        "latency_ms": record.latency_ms,
        "status": record.status.value,
        "source": record.source.value,
        "alias": record.alias,
        "byok": record.byok,
        "list_cost": None if record.list_cost is None else record.list_cost.amount,
    }


def usage_from_row(row: Mapping[Any, Any]) -> UsageRecord:
    return UsageRecord(
        id=row["id"],
        request_id=row["request_id"],
        attempt=row["attempt"],
        client_id=row["client_id"],
        api_key_id=row["api_key_id"],
        model_id=row["model_id"],
        provider=row["provider"],
        usage=TokenUsage(
            input_tokens=row["input_tokens"],
            output_tokens=row["output_tokens"],
            cached_input_tokens=row["cached_input_tokens"],
            cache_write_tokens=row["cache_write_tokens"],
            reasoning_tokens=row["reasoning_tokens"],
        ),
        cost=Money(row["cost"], row["cost_currency"]),
        charge=Money(row["charge"], row["charge_currency"]),
        price_version_id=row["price_version_id"],
        plan_version_id=row["plan_version_id"],
        started_at=row["started_at"],
        latency_ms=row["latency_ms"],
        status=CallStatus(row["status"]),
        source=UsageSource(row["source"]),
        alias=row["alias"],
        byok=bool(row["byok"]),
        list_cost=None
        if row["list_cost"] is None
        else Money(row["list_cost"], row["cost_currency"]),
    )


class SqlAlchemyUsageRepository(UsageRepository):
    """A retried settle writes nothing the second time, and the transaction stays usable."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, record: UsageRecord) -> bool:
        row = usage_to_row(record)
        added = await insert_unless_exists(
            self._conn, usage_records, row, ["request_id", "attempt"]
        )
        if added and self._conn.dialect.name == "postgresql":
            await add_to_daily(self._conn, row)
        return added

    async def for_request(self, request_id: str) -> Sequence[UsageRecord]:
        statement = (
            select(usage_records)
            .where(usage_records.c.request_id == request_id)
            .order_by(usage_records.c.attempt)
        )
        result = await self._conn.execute(statement)
        return [usage_from_row(row) for row in result.mappings()]

    async def for_client(
        self, client_id: str, start: datetime, end: datetime
    ) -> Sequence[UsageRecord]:
        column = usage_records.c
        statement = _of_client(client_id, start, end).order_by(
            column.started_at, column.request_id, column.attempt
        )
        result = await self._conn.execute(statement)
        return [usage_from_row(row) for row in result.mappings()]

    async def estimated(
        self, client_id: str, start: datetime, end: datetime, limit: int
    ) -> Sequence[UsageRecord]:
        column = usage_records.c
        statement = (
            _of_client(client_id, start, end)
            .where(column.source == UsageSource.ESTIMATED.value)
            .order_by(column.started_at.desc(), column.request_id, column.attempt)
            .limit(limit)
        )
        result = await self._conn.execute(statement)
        return [usage_from_row(row) for row in result.mappings()]

    async def totals(
        self,
        start: datetime,
        end: datetime,
        grouping: UsageGrouping,
        client_ids: Sequence[str] | None = None,
    ) -> Sequence[UsageTotals]:
        return await usage_totals(self._conn, start, end, grouping, client_ids)


def _of_client(client_id: str, start: datetime, end: datetime) -> Select[Any]:
    """A client's records started in [start, end)."""
    require_aware(start, "start")
    require_aware(end, "end")
    column = usage_records.c
    return select(usage_records).where(
        column.client_id == client_id, column.started_at >= start, column.started_at < end
    )
