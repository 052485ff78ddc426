"""URL mapping and engine settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.persistence.database import async_url, create_engine, safe_url, sqlite_path


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/bizgraph.db", "sqlite+aiosqlite:///data/bizgraph.db"),
        ("sqlite:////abs/bizgraph.db", "sqlite+aiosqlite:////abs/bizgraph.db"),
        ("postgresql://u:p@db:5432/bz", "postgresql+asyncpg://u:p@db:5432/bz"),
        ("postgres://u@db/bz", "postgresql+asyncpg://u@db/bz"),
        ("postgresql+asyncpg://u@db/bz", "postgresql+asyncpg://u@db/bz"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_async_url(given: str, expected: str) -> None:
    assert async_url(given) == expected


def test_async_url_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="database URL"):
        async_url("bizgraph.db")


def test_safe_url_masks_the_password() -> None:
    assert "hunter2" not in safe_url("postgresql://bz:hunter2@db/bz")


def test_sqlite_path() -> None:
    assert sqlite_path("sqlite+aiosqlite:///data/x.db") == Path("data/x.db")
    assert sqlite_path("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_path("postgresql+asyncpg://u@h/db") is None


async def test_sqlite_engine_uses_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}", sqlite_busy_timeout_ms=1234)
    try:
        async with engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
            keys = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar_one()
            timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
    finally:
        await engine.dispose()
    assert (mode, keys, timeout) == ("wal", 1, 1234)
