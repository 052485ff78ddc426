"""Engines for SQLite (embedded, one machine) and PostgreSQL (shared by many gateways).

SQLite recipe against "database is locked": WAL (readers never block the writer), a busy
timeout (a writer waits for the lock instead of failing) and `BEGIN IMMEDIATE` for write
transactions (the write lock is taken up front, so a transaction that read first can never fail
to upgrade). pysqlite's own transaction handling is switched off so SQLAlchemy emits the BEGIN,
which also makes DDL transactional.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from domain.errors import ValidationError
from domain.text import has_nul

SQLITE_BUSY_TIMEOUT_MS = 15_000
# An execution option: a unit of work that only reads may use a deferred BEGIN on SQLite.
READ_ONLY_OPTION = "bizgraph_read_only"

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def async_url(url: str) -> str:
    """The async-driver form of a database URL; URLs that already name a driver pass through."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("a database URL looks like 'sqlite:///path' or 'postgresql://...'")
    driver = _ASYNC_DRIVERS.get(scheme.lower())
    return f"{driver}://{rest}" if driver else url


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL is shown without its credentials part
        scheme, _, rest = url.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}"


def sqlite_path(url: str | URL) -> Path | None:
    """The database file of a SQLite URL; None for other backends and in-memory databases."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int = 20,
    sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
) -> AsyncEngine:
    """An async engine for the URL (sync-style URLs are accepted and mapped to async drivers)."""
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(
            parsed,
            echo=echo,
            pool_size=pool_size,
            max_overflow=max_overflow,
            connect_args={"timeout": sqlite_busy_timeout_ms / 1000},
        )
        _configure_sqlite(engine, sqlite_busy_timeout_ms)
        _refuse_nul(engine)
        return engine
    engine = create_async_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_timeout=30,
    )
    _refuse_nul(engine)
    return engine


def _refuse_nul(engine: AsyncEngine) -> None:
    """The backstop behind the domain's text checks: a NUL character in any bound string (an id
    looked up, a field no entity checks) is the caller's ValidationError on every backend,
    where PostgreSQL would fail with a driver error and SQLite would store it."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _check(
        _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if has_nul(parameters):
            raise ValidationError("text cannot contain NUL characters")


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
