"""Throwaway, migrated databases for tests: a SQLite file, or a PostgreSQL database created on the
local server and dropped afterwards. Reusable by any test suite (API tests too).

The PostgreSQL server is `BIZGRAPH_TEST_POSTGRES_URL` (default: postgres@127.0.0.1:5432, trust
auth, admin database `postgres`). When it is unreachable, callers skip loudly, unless
`BIZGRAPH_REQUIRE_POSTGRES=1`, in which case they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from adapters.persistence.migrate import upgrade
from adapters.persistence.tables import metadata

ADMIN_URL = os.environ.get(
    "BIZGRAPH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("BIZGRAPH_REQUIRE_POSTGRES") == "1"
APP_TABLES = [table.name for table in metadata.sorted_tables]


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def postgres_unavailable_reason(admin_url: str = ADMIN_URL) -> str | None:
    """None when the server answers; otherwise why not (for a loud skip)."""
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(admin_url), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        shown = make_url(admin_url).render_as_string(hide_password=True)
        return (
            f"PostgreSQL not reachable at {shown} ({type(exc).__name__}: {exc}): "
            "PostgreSQL contract tests SKIPPED"
        )
    await connection.close()
    return None


async def require_postgres(admin_url: str = ADMIN_URL) -> None:
    """Skip the calling test loudly when PostgreSQL is absent (fail if it is required)."""
    reason = await postgres_unavailable_reason(admin_url)
    if reason is None:
        return
    if REQUIRE_POSTGRES:
        pytest.fail(f"{reason} (but BIZGRAPH_REQUIRE_POSTGRES=1)")
    pytest.skip(reason)


@asynccontextmanager
async def sqlite_database(
    tmp_path: Path, *, migrate: bool = True, template: Path | None = None
) -> AsyncIterator[str]:
    """A SQLite file URL under tmp_path, migrated to head (a copy of `template`, a database
    migrated once per session, when given). With migrate=False the file does not exist yet."""
    path = tmp_path / f"bizgraph_{uuid.uuid4().hex[:8]}.db"
    url = f"sqlite:///{path}"
    if migrate and template is not None:
        shutil.copyfile(template, path)
    elif migrate:
        await upgrade(url)
    yield url


async def sqlite_template(directory: Path) -> Path:
    """A migrated SQLite file to copy for each test (see sqlite_database)."""
    path = directory / "template.db"
    await upgrade(f"sqlite:///{path}")
    if path.with_name(path.name + "-wal").exists():
        raise RuntimeError("the template database was not checkpointed")
    return path


@asynccontextmanager
async def postgres_database(
    *, migrate: bool = True, admin_url: str = ADMIN_URL
) -> AsyncIterator[str]:
    """A fresh `bizgraph_test_<hex>` database (migrated to head unless migrate=False), dropped
    WITH (FORCE) on exit. Call require_postgres() first for a loud skip."""
    name = f"bizgraph_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(admin_url), timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        url = database_url(admin_url, name)
        if migrate:
            await upgrade(url)
        yield url
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(admin_url), timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def empty_postgres(url: str) -> None:
    """Delete every application row (alembic_version stays), for isolation between tests.
    DELETE, children first, is much faster than TRUNCATE on the tiny tables of a test. The
    replica role skips triggers, so the guards of finalized invoices do not refuse the wipe."""
    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    try:
        statements = "; ".join(f'DELETE FROM "{name}"' for name in reversed(APP_TABLES))
        await connection.execute(
            f"BEGIN; SET LOCAL session_replication_role = replica; {statements}; COMMIT"
        )
    finally:
        await connection.close()
