"""Statements every repository needs: conflict-tolerant inserts and error translation."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.tables.schema import revisions
from domain.errors import Conflict, NotFound

_FOREIGN_KEY_SQLSTATE = "23503"


async def insert_unless_exists(
    conn: AsyncConnection,
    table: Table,
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
) -> bool:
    """INSERT ... ON CONFLICT (columns) DO NOTHING; True when a row was written.

    A duplicate is not an error, so the transaction stays usable on every backend (PostgreSQL
    would abort it after a failed plain INSERT)."""
    statement = _insert_or_skip(conn.dialect.name, table, tuple(conflict_columns))
    async with translated_errors(table.name):
        result = await conn.execute(statement, dict(values))
    return bool(result.rowcount == 1)


@functools.cache
def _insert_or_skip(dialect: str, table: Table, conflict_columns: tuple[str, ...]) -> Any:
    """Built once per table, values bound at execution: building and cache-keying a statement
    per call was a measurable share of the hot path."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))


async def upsert(
    conn: AsyncConnection, table: Table, values: Mapping[str, Any], key: Sequence[str]
) -> None:
    """INSERT, or UPDATE every other column when the key exists."""
    if conn.dialect.name == "postgresql":
        statement: Any = postgresql.insert(table).values(**values)
    else:
        statement = sqlite.insert(table).values(**values)
    changes = {name: statement.excluded[name] for name in values if name not in key}
    statement = statement.on_conflict_do_update(index_elements=list(key), set_=changes)
    async with translated_errors(table.name):
        await conn.execute(statement)


def is_foreign_key_violation(exc: IntegrityError) -> bool:
    original = exc.orig
    sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if sqlstate == _FOREIGN_KEY_SQLSTATE:
        return True
    return "FOREIGN KEY constraint failed" in str(original)


@asynccontextmanager
async def translated_errors(what: str) -> AsyncIterator[None]:
    """Expected integrity failures become domain errors (a missing parent row is NotFound,
    anything else a Conflict). On PostgreSQL the transaction is then unusable: roll back."""
    try:
        yield
    except IntegrityError as exc:
        if is_foreign_key_violation(exc):
            raise NotFound(f"{what}: a referenced row does not exist") from exc
        raise Conflict(f"{what}: the row conflicts with a stored one") from exc


CONFIG_REVISION = "config"


async def increment_counter(conn: AsyncConnection, name: str) -> int:
    """Add one to the named counter (created at 1) and return its new value. The row stays
    locked until the transaction ends, so concurrent writers take consecutive values."""
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(revisions)
        .values(name=name, value=1)
        .on_conflict_do_update(index_elements=["name"], set_={"value": revisions.c.value + 1})
        .returning(revisions.c.value)
    )
    return int((await conn.execute(statement)).scalar_one())


# Set on the connection's info by a bump; the unit of work takes it off at commit and tells
# this process's RevisionWatch (the info outlives the checkout: it is always taken off).
CONFIG_CHANGED = "bizgraph_config_changed"


async def bump_config_revision(conn: AsyncConnection) -> None:
    """Tell every process caching keys, clients, plans, the catalog or budgets that they
    changed (in the writer's transaction, so the change and the bump commit together)."""
    await increment_counter(conn, CONFIG_REVISION)
    conn.info[CONFIG_CHANGED] = True


def take_config_change(conn: AsyncConnection) -> bool:
    """Whether the transaction on `conn` bumped the configuration revision; forgets it. A lost
    connection has no info to read (the pool clears it when it drops the connection)."""
    if conn.closed or conn.invalidated:
        return False
    return bool(conn.info.pop(CONFIG_CHANGED, False))
