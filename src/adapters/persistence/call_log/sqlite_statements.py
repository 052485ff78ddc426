"""The SQL the SQLite call log sends, compiled once at import by SQLAlchemy's SQLite dialect with
named parameters (the stdlib driver binds a dict), and the row values as the engine's column
types store them (types.py)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import sqlite

from adapters.persistence.tables.budgets import budget_counters, budget_leases
from adapters.persistence.tables.calls import call_journal
from adapters.persistence.types import check_storable


def sql_value(value: Any) -> Any:
    """A row value as the engine's column types store it on SQLite (types.py): amounts as
    fixed-point text, instants as UTC wall time with microseconds."""
    if isinstance(value, Decimal):
        return format(check_storable(value), "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, Enum):
        return value.value
    return value


@functools.cache
def insert_sql(table: Table, columns: tuple[str, ...], conflict: tuple[str, ...]) -> str:
    """INSERT ... ON CONFLICT DO NOTHING for these columns, compiled once by SQLAlchemy's
    SQLite dialect with named parameters (the stdlib driver binds a dict)."""
    statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    return str(statement.compile(dialect=DIALECT, column_keys=list(columns)))


def sql_values(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: sql_value(value) for name, value in row.items()}


def compiled(statement: Any) -> str:
    return str(statement.compile(dialect=DIALECT))


DIALECT = sqlite.dialect(paramstyle="named")
JOURNAL = call_journal.c
FINISH = compiled(
    update(call_journal)
    .where(JOURNAL.request_id == bindparam("rid"), JOURNAL.state == bindparam("started"))
    .values(state=bindparam("new_state"))
)
KNOWN = compiled(select(JOURNAL.request_id).where(JOURNAL.request_id == bindparam("rid")))
COUNTERS, LEASES = budget_counters.c, budget_leases.c
COUNTER = compiled(
    select(COUNTERS.spent, COUNTERS.reserved).where(
        COUNTERS.scope == bindparam("scope"), COUNTERS.period_start == bindparam("start")
    )
)
SET_COUNTER = compiled(
    update(budget_counters)
    .where(COUNTERS.scope == bindparam("scope"), COUNTERS.period_start == bindparam("start"))
    .values(spent=bindparam("spent"), reserved=bindparam("reserved"))
)
THE_LEASE = (
    LEASES.process_id == bindparam("owner"),
    LEASES.scope == bindparam("scope"),
    LEASES.period_start == bindparam("start"),
)
LEASE = compiled(select(LEASES.amount).where(*THE_LEASE))
SET_LEASE = compiled(update(budget_leases).where(*THE_LEASE).values(amount=bindparam("amount")))
DROP_LEASE = compiled(delete(budget_leases).where(*THE_LEASE))
CHECKPOINT = compiled(
    update(call_journal)
    .where(JOURNAL.request_id == bindparam("rid"), JOURNAL.state == bindparam("started"))
    .values(output_chars=bindparam("chars"))
)
