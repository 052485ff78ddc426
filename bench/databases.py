"""Throwaway databases for the benchmarks: a PostgreSQL database created for one run and dropped
at its end, a Redis database number flushed before use, and the usage record counts the
metering checks compare with the requests sent."""

from __future__ import annotations

import asyncio
import sqlite3
import urllib.parse
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import redis
from sqlalchemy.engine import make_url


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(admin_url: str, name: str) -> str:
    """`admin_url` pointing at the database `name` instead."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def create_database(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def drop_database(admin_url: str, name: str) -> None:
    """Drop `name`, closing the connections still open to it (a server killed mid-shutdown)."""
    admin = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _postgres_reachable(admin_url: str) -> str | None:
    try:
        connection = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await connection.close()
    return None


def postgres_problem(admin_url: str) -> str | None:
    """Why the PostgreSQL server cannot be used, or None."""
    return asyncio.run(_postgres_reachable(admin_url))


def redis_db(url: str) -> int:
    """The database number of a Redis URL (`redis://host:port/N`, 0 when absent)."""
    path = urllib.parse.urlsplit(url).path.strip("/")
    return int(path) if path else 0


def flush_redis(url: str) -> None:
    """Empty the Redis database of `url` (never database 0: the test suite's and everyone's)."""
    if redis_db(url) == 0:
        raise ValueError(f"refusing to flush Redis database 0 ({url}): name another number")
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def redis_problem(url: str) -> str | None:
    """Why the Redis server cannot be used, or None."""
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        client.close()
    return None


def sqlite_usage_records(path: Path, client_id: str) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM usage_records WHERE client_id = ?", (client_id,)
        ).fetchone()
    return int(count)


async def _postgres_usage_records(url: str, client_id: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM usage_records WHERE client_id = $1", client_id
        )
    finally:
        await connection.close()
    return int(count)


def postgres_usage_records(url: str, client_id: str) -> int:
    return asyncio.run(_postgres_usage_records(url, client_id))
