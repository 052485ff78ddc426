"""Programmatic Alembic: migrate to head, and tell whether a database is ready to serve.

Alembic is configured in code (no alembic.ini at runtime); the environment and revisions live in
adapters/persistence/migrations, inside the installed package.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from adapters.persistence.database import async_url, create_engine, safe_url, sqlite_path

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD_REVISION = "0018"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision in the shipped migrations (equals HEAD_REVISION, a test checks)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database to `revision` in one transaction (creating a SQLite file and its
    directory when missing)."""
    path = sqlite_path(async_url(url))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


class SchemaState(StrEnum):
    MISSING = "missing"  # no database there (a SQLite file or PostgreSQL database absent)
    UNREACHABLE = "unreachable"  # the server could not be reached or refused the login
    UNMIGRATED = "unmigrated"  # the database exists but holds no Bizgraph schema
    BEHIND = "behind"  # migrated, but to an older revision than this code's head
    UNKNOWN_REVISION = "unknown_revision"  # migrated by a newer (or foreign) version
    CURRENT = "current"


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database stands against this code's migrations, with a message for humans."""

    state: SchemaState
    url: str  # password masked
    current_revision: str | None
    head_revision: str
    detail: str = ""

    @property
    def is_current(self) -> bool:
        return self.state is SchemaState.CURRENT

    @property
    def message(self) -> str:
        where = self.url
        match self.state:
            case SchemaState.CURRENT:
                return f"database {where} is at the current schema ({self.head_revision})"
            case SchemaState.MISSING:
                return f"database {where} does not exist: run `bizgraph migrate` to create it"
            case SchemaState.UNREACHABLE:
                return f"database {where} is unreachable ({self.detail})"
            case SchemaState.UNMIGRATED:
                return f"database {where} has no Bizgraph schema: run `bizgraph migrate`"
            case SchemaState.BEHIND:
                return (
                    f"database {where} is at schema {self.current_revision}, this version needs "
                    f"{self.head_revision}: run `bizgraph migrate`"
                )
            case SchemaState.UNKNOWN_REVISION:
                return (
                    f"database {where} is at schema {self.current_revision}, unknown to this "
                    f"version (head {self.head_revision}): was it migrated by a newer Bizgraph?"
                )


async def schema_status(url: str, *, wait_seconds: float = 10.0) -> SchemaStatus:
    """Never raises for a missing, unreachable or unmigrated database; reports it instead."""
    head = head_revision()
    shown = safe_url(url)

    def status(state: SchemaState, current: str | None = None, detail: str = "") -> SchemaStatus:
        return SchemaStatus(state, shown, current, head, detail)

    try:
        parsed = make_url(async_url(url))
    except Exception as exc:  # an unparseable URL is a configuration error worth reporting
        return status(SchemaState.UNREACHABLE, detail=f"invalid URL: {type(exc).__name__}")
    path = sqlite_path(parsed)
    if path is not None and not path.is_file():
        return status(SchemaState.MISSING)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with asyncio.timeout(wait_seconds), engine.connect() as connection:
            has_tables, current = await connection.run_sync(_inspect_revision)
    except TimeoutError:
        return status(SchemaState.UNREACHABLE, detail=f"no answer within {wait_seconds:g}s")
    except (OperationalError, DBAPIError, OSError) as exc:
        if _is_missing_database(exc):
            return status(SchemaState.MISSING)
        return status(SchemaState.UNREACHABLE, detail=_describe(exc))
    finally:
        await engine.dispose()
    if current is None:
        return status(SchemaState.UNMIGRATED, detail="" if not has_tables else "foreign tables")
    if current == head:
        return status(SchemaState.CURRENT, current)
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    state = SchemaState.BEHIND if current in known else SchemaState.UNKNOWN_REVISION
    return status(state, current)


def _inspect_revision(connection: Connection) -> tuple[bool, str | None]:
    has_tables = bool(inspect(connection).get_table_names())
    return has_tables, MigrationContext.configure(connection).get_current_revision()


def _is_missing_database(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}"
    return "InvalidCatalogName" in text or ("database" in text and "does not exist" in text)


def _describe(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    first_line = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {first_line}" if first_line else type(original).__name__
