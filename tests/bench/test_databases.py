"""The benchmark's throwaway databases: a Redis database other than 0, and the run's PostgreSQL
database dropped when the run fails."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bench.databases import asyncpg_dsn, flush_redis, redis_db
from bench.gateway import run_database
from tests.support.databases import ADMIN_URL, require_postgres


def test_the_redis_database_number_of_a_url() -> None:
    assert redis_db("redis://127.0.0.1:6379/11") == 11
    assert redis_db("redis://127.0.0.1:6379") == 0
    assert redis_db("redis://127.0.0.1:6379/") == 0


def test_database_zero_is_never_flushed() -> None:
    with pytest.raises(ValueError, match="database 0"):
        flush_redis("redis://127.0.0.1:1/0")  # refused before any connection


async def _names() -> set[str]:
    connection = await asyncpg.connect(asyncpg_dsn(ADMIN_URL), timeout=10)
    try:
        rows = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'bizgraph_bench_gw_%'"
        )
    finally:
        await connection.close()
    return {row["datname"] for row in rows}


def failing_run(created: list[str]) -> None:
    """A run that fails once its database exists (noting the database's name)."""
    with run_database(ADMIN_URL, needed=True) as database:
        assert database is not None
        url, name = database
        created.append(name)
        assert url.endswith("/" + name)
        assert name in asyncio.run(_names())
        raise RuntimeError("the run failed")


@pytest.mark.postgres
def test_the_runs_database_is_dropped_when_the_run_fails() -> None:
    asyncio.run(require_postgres())
    created: list[str] = []

    with pytest.raises(RuntimeError, match="the run failed"):
        failing_run(created)

    assert len(created) == 1
    assert created[0] not in asyncio.run(_names())
