"""Usage aggregated in SQL (GROUP BY), with exact amounts on both backends.

PostgreSQL sums the NUMERIC(38, 18) columns with SUM: exact. SQLite stores amounts as decimal
TEXT, and its SUM would go through a double, so there the database still groups and counts, but
hands each group's amounts back as one `group_concat` string, which is summed with Decimal here:
one row per group either way, nothing ever passes through a float.

Hours are UTC hours ('YYYY-MM-DD HH' text on both backends); days in the agency's time zone are
made from them by the domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Text, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.tables import usage_records
from domain.money import EXACT, Money
from domain.timeutil import require_aware
from domain.tokens import TokenUsage
from domain.usage import UsageGrouping, UsageTotals

_TOKENS = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
_SEPARATOR = " "


def _hour(dialect: str) -> ColumnElement[str]:
    started = usage_records.c.started_at
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", started), "YYYY-MM-DD HH24")
    # SQLite holds the UTC wall time as 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return func.substr(started, 1, 13)


def _amount(dialect: str, name: str) -> ColumnElement[Any]:
    column = usage_records.c[name]
    if dialect == "postgresql":
        return func.sum(column).label(name)
    return func.group_concat(column, _SEPARATOR, type_=Text()).label(name)


def _exact(value: Any) -> Decimal:
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
    dialect = conn.dialect.name
    column = usage_records.c
    keys: list[ColumnElement[Any]] = [column.client_id]
    if grouping is UsageGrouping.MODEL:
        keys.append(column.model_id.label("model_id"))
    elif grouping is UsageGrouping.HOUR:
        keys.append(_hour(dialect).label("hour"))
    keys += [column.cost_currency, column.charge_currency]
    statement = (
        select(
            *keys,
            func.count().label("requests"),
            *(func.coalesce(func.sum(column[name]), 0).label(name) for name in _TOKENS),
            _amount(dialect, "cost"),
            _amount(dialect, "charge"),
        )
        .where(column.started_at >= start, column.started_at < end)
        .group_by(*keys)
        .order_by(*keys)
    )
    if client_ids is not None:
        statement = statement.where(column.client_id.in_(list(client_ids)))
    if dialect == "postgresql":
        # asyncpg keeps statements prepared; after five runs PostgreSQL would switch this one to
        # a generic plan (an index scan of the whole month, 2x slower than a parallel seq scan).
        await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    result = await conn.execute(statement)
    return [_totals(row, grouping) for row in result.mappings()]


def _totals(row: RowMapping, grouping: UsageGrouping) -> UsageTotals:
    hour = None
    if grouping is UsageGrouping.HOUR:
        hour = datetime.strptime(row["hour"], "%Y-%m-%d %H").replace(tzinfo=UTC)
    return UsageTotals(
        client_id=row["client_id"],
        requests=int(row["requests"]),
        tokens=TokenUsage(**{name: int(row[name]) for name in _TOKENS}),
        cost=Money(_exact(row["cost"]), row["cost_currency"]),
        charge=Money(_exact(row["charge"]), row["charge_currency"]),
        model_id=row["model_id"] if grouping is UsageGrouping.MODEL else None,
        hour=hour,
    )
