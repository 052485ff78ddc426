"""Usage aggregated in SQL (GROUP BY), with exact amounts on both backends.

PostgreSQL sums the NUMERIC(38, 18) columns with SUM: exact. SQLite stores amounts as decimal
TEXT, and its SUM would go through a double, so there the database still groups and counts, but
hands each group's amounts back as one `group_concat` string, which is summed with Decimal here:
one row per group either way, nothing ever passes through a float.

Hours are UTC hours ('YYYY-MM-DD HH' text on both backends); days in the agency's time zone are
made from them by the domain.

On PostgreSQL, per-client totals (dashboards over a month) read the `usage_daily` rollup for the
whole UTC days inside the range and the records themselves only for the partial days at its
edges (a month in a non-UTC zone starts and ends inside UTC days): the same exact figures from
~30 rows per client instead of every call. The rollup is kept by `add_to_daily`, in the
transaction that inserts each record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Text, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.tables.calls import usage_daily, usage_records
from domain.billing.money import EXACT, Money
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageGrouping, UsageTotals
from domain.timeutil import require_aware

_TOKENS = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
_SEPARATOR = " "


def utc_hour_of(dialect: str) -> ColumnElement[str]:
    started = usage_records.c.started_at
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", started), "YYYY-MM-DD HH24")
    # SQLite holds the UTC wall time as 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return func.substr(started, 1, 13)


def summed_amount(dialect: str, name: str) -> ColumnElement[Any]:
    column = usage_records.c[name]
    if dialect == "postgresql":
        return func.sum(column).label(name)
    return func.group_concat(column, _SEPARATOR, type_=Text()).label(name)


def exact_decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        raise TypeError("an exact sum came back as a float")
    if isinstance(value, Decimal):
        return value
    total = Decimal(0)
    for part in str(value).split(_SEPARATOR):
        total = EXACT.add(total, Decimal(part))
    return total


async def usage_totals(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    grouping: UsageGrouping,
    client_ids: Sequence[str] | None,
) -> list[UsageTotals]:
    require_aware(start, "start")
    require_aware(end, "end")
    if client_ids is not None and not client_ids:
        return []
    if grouping is UsageGrouping.CLIENT and conn.dialect.name == "postgresql":
        return await _client_totals_from_rollup(conn, start, end, client_ids)
    return await _record_totals(conn, start, end, grouping, client_ids)


async def _record_totals(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    grouping: UsageGrouping,
    client_ids: Sequence[str] | None,
) -> list[UsageTotals]:
    dialect = conn.dialect.name
    column = usage_records.c
    together = grouping is UsageGrouping.HOUR_ALL  # one group per hour, not per client
    keys: list[ColumnElement[Any]] = [] if together else [column.client_id]
    if grouping is UsageGrouping.MODEL:
        keys.append(column.model_id.label("model_id"))
    elif grouping is UsageGrouping.ALIAS:
        keys += [column.alias.label("alias"), column.model_id.label("model_id")]
    elif grouping in (UsageGrouping.HOUR, UsageGrouping.HOUR_ALL):
        keys.append(utc_hour_of(dialect).label("hour"))
    keys += [column.cost_currency, column.charge_currency]
    statement = (
        select(
            *keys,
            func.count().label("requests"),
            *(func.coalesce(func.sum(column[name]), 0).label(name) for name in _TOKENS),
            summed_amount(dialect, "cost"),
            summed_amount(dialect, "charge"),
        )
        .where(column.started_at >= start, column.started_at < end)
        .group_by(*keys)
        .order_by(*keys)
    )
    if client_ids is not None:
        statement = statement.where(column.client_id.in_(list(client_ids)))
    if grouping is UsageGrouping.ALIAS:
        statement = statement.where(column.alias.is_not(None))
    if dialect == "postgresql":
        # asyncpg keeps statements prepared; after five runs PostgreSQL would switch this one to
        # a generic plan (an index scan of the whole month, 2x slower than a parallel seq scan).
        await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    result = await conn.execute(statement)
    return [_totals(row, grouping) for row in result.mappings()]


def _totals(row: RowMapping, grouping: UsageGrouping) -> UsageTotals:
    hour = None
    if grouping in (UsageGrouping.HOUR, UsageGrouping.HOUR_ALL):
        hour = datetime.strptime(row["hour"], "%Y-%m-%d %H").replace(tzinfo=UTC)
    return UsageTotals(
        client_id="" if grouping is UsageGrouping.HOUR_ALL else row["client_id"],
        requests=int(row["requests"]),
        tokens=TokenUsage(**{name: int(row[name]) for name in _TOKENS}),
        cost=Money(exact_decimal(row["cost"]), row["cost_currency"]),
        charge=Money(exact_decimal(row["charge"]), row["charge_currency"]),
        model_id=row["model_id"]
        if grouping in (UsageGrouping.MODEL, UsageGrouping.ALIAS)
        else None,
        hour=hour,
        alias=row["alias"] if grouping is UsageGrouping.ALIAS else None,
    )


async def add_to_daily(conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    """Count one inserted usage record into its client's UTC day (PostgreSQL: one atomic upsert,
    exact NUMERIC additions)."""
    day = row["started_at"].astimezone(UTC).date()
    values = {
        "client_id": row["client_id"],
        "day": day,
        "cost_currency": row["cost_currency"],
        "charge_currency": row["charge_currency"],
        "requests": 1,
        **{name: row[name] for name in _TOKENS},
        "cost": row["cost"],
        "charge": row["charge"],
    }
    statement = postgresql.insert(usage_daily).values(**values)
    added = {
        name: usage_daily.c[name] + statement.excluded[name]
        for name in ("requests", *_TOKENS, "cost", "charge")
    }
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["client_id", "day", "cost_currency", "charge_currency"], set_=added
        )
    )


def _whole_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The UTC days [first, last) that lie entirely inside [start, end)."""
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    first = start_utc.date()
    if datetime.combine(first, time(), UTC) < start_utc:
        first += timedelta(days=1)
    return first, end_utc.date()


async def _client_totals_from_rollup(
    conn: AsyncConnection, start: datetime, end: datetime, client_ids: Sequence[str] | None
) -> list[UsageTotals]:
    first, last = _whole_days(start, end)
    if first >= last:  # no whole UTC day inside: the records are few
        return await _record_totals(conn, start, end, UsageGrouping.CLIENT, client_ids)
    day = usage_daily.c
    keys = [day.client_id, day.cost_currency, day.charge_currency]
    statement = (
        select(
            *keys,
            func.sum(day.requests).label("requests"),
            *(func.sum(day[name]).label(name) for name in _TOKENS),
            func.sum(day.cost).label("cost"),
            func.sum(day.charge).label("charge"),
        )
        .where(day.day >= first, day.day < last)
        .group_by(*keys)
    )
    if client_ids is not None:
        statement = statement.where(day.client_id.in_(list(client_ids)))
    whole = [
        _totals(row, UsageGrouping.CLIENT) for row in (await conn.execute(statement)).mappings()
    ]
    edges = [
        *await _record_totals(
            conn, start, datetime.combine(first, time(), UTC), UsageGrouping.CLIENT, client_ids
        ),
        *await _record_totals(
            conn, datetime.combine(last, time(), UTC), end, UsageGrouping.CLIENT, client_ids
        ),
    ]
    return _merged([*whole, *edges])


def _merged(parts: Sequence[UsageTotals]) -> list[UsageTotals]:
    """One total per client and currency pair, adding the parts exactly."""
    merged: dict[tuple[str, str, str], UsageTotals] = {}
    for part in parts:
        key = (part.client_id, part.cost.currency, part.charge.currency)
        known = merged.get(key)
        merged[key] = (
            part
            if known is None
            else UsageTotals(
                client_id=part.client_id,
                requests=known.requests + part.requests,
                tokens=known.tokens + part.tokens,
                cost=known.cost + part.cost,
                charge=known.charge + part.charge,
            )
        )
    return [merged[key] for key in sorted(merged)]


async def rebuild_usage_daily(conn: AsyncConnection) -> None:
    """Recompute the PostgreSQL rollup from the records, for data loaded around the repository
    (bulk imports, benchmarks)."""
    record = usage_records.c
    day = func.date(func.timezone("UTC", record.started_at))
    keys = [record.client_id, day, record.cost_currency, record.charge_currency]
    grouped = select(
        *keys,
        func.count(),
        *(func.sum(record[name]) for name in _TOKENS),
        func.sum(record.cost),
        func.sum(record.charge),
    ).group_by(*keys)
    columns = [
        "client_id", "day", "cost_currency", "charge_currency", "requests", *_TOKENS, "cost",
        "charge",
    ]  # fmt: skip
    await conn.execute(usage_daily.delete())
    await conn.execute(usage_daily.insert().from_select(columns, grouped))
