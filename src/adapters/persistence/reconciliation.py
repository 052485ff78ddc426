"""The reconciliation store: providers' reports as kept, usage records summed per UTC hour,
provider and upstream model (exact amounts on both backends, as usage_totals does), and the
per-provider "reconciled through" marks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import RowMapping, case, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence.repositories._sql import insert_unless_exists
from adapters.persistence.repositories.usage import usage_from_row
from adapters.persistence.repositories.usage_totals import exact_decimal, summed_amount, utc_hour_of
from adapters.persistence.tables.calls import usage_records
from adapters.persistence.tables.catalog import models
from adapters.persistence.tables.reconciliation import (
    estimate_settlements,
    provider_reports,
    reconciliation_marks,
)
from adapters.persistence.unit_of_work import sqlite_writer_lock
from domain.billing.money import exact_sum
from domain.ids import new_id
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageSource
from domain.reconciliation import ProviderFigures, RecordedFigures, ReportOrigin
from domain.usecases.reconciliation import ReconciliationStore, utc_day_start

_TOKENS = ("input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens")
_RECORD_TOKENS = (*_TOKENS, "reasoning_tokens")


def _report_row(row: ProviderFigures, origin: ReportOrigin, at: datetime) -> dict[str, Any]:
    tokens = row.tokens
    return {
        "id": new_id(),
        "provider": row.provider,
        "day": row.day,
        "hour": row.hour,
        "model": row.model,
        "api_key_id": row.api_key_id,
        "project_id": row.project_id,
        "requests": row.requests,
        **{name: None if tokens is None else getattr(tokens, name) for name in _TOKENS},
        "cost": row.cost,
        "currency": row.currency,
        "origin": origin.value,
        "imported_at": at,
    }


def _figures(row: RowMapping) -> ProviderFigures:
    tokens = None
    if row["input_tokens"] is not None:
        tokens = TokenUsage(**{name: int(row[name] or 0) for name in _TOKENS})
    return ProviderFigures(
        day=row["day"],
        provider=row["provider"],
        model=row["model"],
        currency=row["currency"],
        requests=None if row["requests"] is None else int(row["requests"]),
        tokens=tokens,
        cost=row["cost"],
        api_key_id=row["api_key_id"],
        project_id=row["project_id"],
        hour=row["hour"],
    )


class SqlReconciliationStore(ReconciliationStore):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        lock = sqlite_writer_lock(self._engine)  # queued with this process's other writers
        if lock is None:
            async with self._engine.begin() as conn:
                yield conn
            return
        async with lock, self._engine.begin() as conn:
            yield conn

    async def replace_reports(
        self,
        provider: str,
        days: Sequence[date],
        rows: Sequence[ProviderFigures],
        origin: ReportOrigin,
        at: datetime,
        *,
        hourly: bool = False,
    ) -> None:
        column = provider_reports.c
        width = column.hour.is_not(None) if hourly else column.hour.is_(None)
        async with self._writing() as conn:
            await conn.execute(
                delete(provider_reports).where(
                    column.provider == provider, column.day.in_(list(days)), width
                )
            )
            if rows:
                await conn.execute(
                    provider_reports.insert(), [_report_row(r, origin, at) for r in rows]
                )

    async def reports(
        self, start: date, end: date, providers: Sequence[str] | None
    ) -> list[ProviderFigures]:
        column = provider_reports.c
        statement = (
            select(provider_reports)
            .where(column.day >= start, column.day < end)
            .order_by(column.day, column.provider, column.model, column.hour, column.id)
        )
        if providers is not None:
            statement = statement.where(column.provider.in_(list(providers)))
        async with self._engine.connect() as conn:
            result = await conn.execute(statement)
            return [_figures(row) for row in result.mappings()]

    async def recorded(
        self, start: date, end: date, providers: Sequence[str] | None
    ) -> list[RecordedFigures]:
        column = usage_records.c
        async with self._engine.connect() as conn:
            dialect = conn.dialect.name
            keys = [
                utc_hour_of(dialect).label("hour"),
                column.provider,
                column.model_id,
                column.source,
                column.cost_currency,
            ]
            statement = (
                select(
                    *keys,
                    # A failed attempt the provider answered with an error is no request it
                    # bills; one settled on an estimate reached the model.
                    func.sum(
                        case(
                            (
                                or_(
                                    column.status == CallStatus.SUCCEEDED.value,
                                    column.source == UsageSource.ESTIMATED.value,
                                ),
                                1,
                            ),
                            else_=0,
                        )
                    ).label("requests"),
                    *(func.coalesce(func.sum(column[n]), 0).label(n) for n in _RECORD_TOKENS),
                    summed_amount(dialect, "cost"),
                )
                .where(
                    column.started_at >= utc_day_start(start),
                    column.started_at < utc_day_start(end),
                    # Calls with a client's own key are on that client's provider account,
                    # never on the agency's reports (docs/byok.md).
                    column.byok.is_(False),
                )
                .group_by(*keys)
                .order_by(*keys)
            )
            if providers is not None:
                statement = statement.where(column.provider.in_(list(providers)))
            groups = (await conn.execute(statement)).mappings().all()
            settled = await _settled(conn, start, end, providers)
            names: dict[str, str] = {
                row.id: row.upstream_name
                for row in await conn.execute(select(models.c.id, models.c.upstream_name))
            }
        merged: dict[tuple[datetime, str, str, str], RecordedFigures] = {}
        for row in groups:
            hour = datetime.strptime(row["hour"], "%Y-%m-%d %H").replace(tzinfo=UTC)
            model_id: str = row["model_id"]
            upstream = names.get(model_id) or model_id.partition("/")[2] or model_id
            tokens = TokenUsage(**{name: int(row[name]) for name in _RECORD_TOKENS})
            cost = exact_decimal(row["cost"])
            requests = int(row["requests"])
            estimated = row["source"] == UsageSource.ESTIMATED.value
            key = (hour, row["provider"], upstream, row["cost_currency"])
            before = merged.get(key)
            figures = RecordedFigures(
                hour=hour,
                provider=row["provider"],
                model=upstream,
                requests=requests,
                tokens=tokens,
                cost=cost,
                currency=row["cost_currency"],
                estimated_requests=requests if estimated else 0,
                estimated_tokens=tokens if estimated else TokenUsage(),
                estimated_cost=cost if estimated else exact_decimal(0),
            )
            merged[key] = figures if before is None else _merge(before, figures)
        for row in settled:  # estimated calls settled since count at their actual figures
            record = usage_from_row({k[2:]: v for k, v in row.items() if k.startswith("r_")})
            hour = record.started_at.replace(minute=0, second=0, microsecond=0)
            upstream = names.get(record.model_id) or record.model_id.partition("/")[2]
            key = (hour, record.provider, upstream or record.model_id, record.cost.currency)
            if key in merged:
                actual = TokenUsage(**{name: int(row[name]) for name in _RECORD_TOKENS})
                cost_delta = exact_decimal(row["cost_delta"])
                merged[key] = merged[key].settled(
                    record.usage, record.cost.amount, actual, cost_delta
                )
        return list(merged.values())

    async def reconciled_through(self) -> dict[str, date]:
        async with self._engine.connect() as conn:
            result = await conn.execute(
                select(reconciliation_marks.c.provider, reconciliation_marks.c.reconciled_through)
            )
            return {row.provider: row.reconciled_through for row in result}

    async def mark_reconciled(self, provider: str, through: date, at: datetime) -> None:
        """Insert the mark, or move it forward (two processes at once: no conflict, and the
        later day wins)."""
        column = reconciliation_marks.c
        values = {"provider": provider, "reconciled_through": through, "updated_at": at}
        async with self._writing() as conn:
            if await insert_unless_exists(conn, reconciliation_marks, values, ["provider"]):
                return
            await conn.execute(
                reconciliation_marks.update()
                .where(column.provider == provider, column.reconciled_through < through)
                .values(reconciled_through=through, updated_at=at)
            )


def _merge(a: RecordedFigures, b: RecordedFigures) -> RecordedFigures:
    return RecordedFigures(
        hour=a.hour,
        provider=a.provider,
        model=a.model,
        requests=a.requests + b.requests,
        tokens=a.tokens + b.tokens,
        cost=exact_sum(a.cost, b.cost),
        currency=a.currency,
        estimated_requests=a.estimated_requests + b.estimated_requests,
        estimated_tokens=a.estimated_tokens + b.estimated_tokens,
        estimated_cost=exact_sum(a.estimated_cost, b.estimated_cost),
        settled_requests=a.settled_requests + b.settled_requests,
    )


async def _settled(
    conn: AsyncConnection, start: date, end: date, providers: Sequence[str] | None
) -> Sequence[RowMapping]:
    """The settlements of estimated calls that started in the days (each with its record's
    columns prefixed `r_`)."""
    record = usage_records.c
    statement = (
        select(estimate_settlements, *(c.label(f"r_{c.name}") for c in usage_records.c))
        .join(usage_records, record.id == estimate_settlements.c.usage_record_id)
        .where(
            record.started_at >= utc_day_start(start),
            record.started_at < utc_day_start(end),
            record.byok.is_(False),
        )
    )
    if providers is not None:
        statement = statement.where(record.provider.in_(list(providers)))
    return (await conn.execute(statement)).mappings().all()
