"""Readiness checks of the services the gateway depends on (api/readiness.py runs them): the
database at the schema this code needs, and Redis. Each answers None when fine, else what is
wrong, naming no URL, password or driver text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.migrate import HEAD_REVISION

Check = Callable[[], Awaitable[str | None]]


def database_check(engine: AsyncEngine) -> Check:
    async def check() -> str | None:
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
                current = rows.scalar()
        except Exception as exc:
            return f"the database does not answer ({type(exc).__name__})"
        if current != HEAD_REVISION:
            return f"the schema is at {current}, this code needs {HEAD_REVISION}: run migrate"
        return None

    return check


def redis_check(url: str) -> tuple[Check, Callable[[], Awaitable[None]]]:
    """The check, and how to close its connection at shutdown."""
    client: Redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    async def check() -> str | None:
        try:
            await client.ping()
        except Exception as exc:
            return f"Redis does not answer ({type(exc).__name__})"
        return None

    return check, client.aclose
