"""`GET /readyz`: whether this process can meter calls now. `/healthz` says the process is alive;
this says the database answers at the schema this code expects, the hot path's writer is not
backed up, and Redis answers when it is configured. A load balancer takes a process that is
not ready out of rotation instead of letting its calls fail.

Each check has a deadline, and the report is computed at most once a second however often it is
asked for (callers in that second share it), so the route cannot be used to load the database.
Messages name what is wrong, never a URL, a password or a driver's text.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.migrate import HEAD_REVISION
from domain.usecases.metering import Metering

Check = Callable[[], Awaitable[str | None]]  # None when fine, else what is wrong
CHECK_SECONDS = 2.0
REPORT_TTL_SECONDS = 1.0
BACKED_UP_SHARE = 0.9  # of the writer's queue bound


@dataclass(frozen=True, slots=True)
class Report:
    ready: bool
    checks: Mapping[str, Mapping[str, Any]]

    def body(self) -> dict[str, Any]:
        return {"status": "ready" if self.ready else "not_ready", "checks": dict(self.checks)}


class Readiness:
    def __init__(
        self,
        checks: Mapping[str, Check],
        ttl: float = REPORT_TTL_SECONDS,
        closers: Sequence[Callable[[], Awaitable[None]]] = (),
        deadline: float = CHECK_SECONDS,
    ) -> None:
        self._checks = checks
        self._ttl = ttl
        self._deadline = deadline
        self._closers = closers
        self._last: tuple[float, Report] | None = None
        self._running: asyncio.Task[Report] | None = None

    async def report(self) -> Report:
        now = time.monotonic()
        if self._last is not None and now - self._last[0] < self._ttl:
            return self._last[1]
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._measure())
        return await asyncio.shield(self._running)

    async def aclose(self) -> None:
        for close in self._closers:
            await close()

    async def _measure(self) -> Report:
        checking = (_timed(check, self._deadline) for check in self._checks.values())
        results = await asyncio.gather(*checking)
        checks = dict(zip(self._checks, results, strict=True))
        report = Report(all(c["ok"] for c in checks.values()), checks)
        self._last = (time.monotonic(), report)
        return report


async def _timed(check: Check, deadline: float) -> dict[str, Any]:
    started = time.monotonic()
    try:
        async with asyncio.timeout(deadline):
            problem = await check()
    except TimeoutError:
        problem = f"no answer within {deadline:g}s"
    except Exception as exc:  # a failing check is a finding, not a crash of the route
        problem = f"failed ({type(exc).__name__})"
    result: dict[str, Any] = {
        "ok": problem is None,
        "ms": round(1000 * (time.monotonic() - started)),
    }
    if problem is not None:
        result["problem"] = problem
    return result


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


def writer_check(metering: Metering) -> Check:
    async def check() -> str | None:
        waiting, bound = metering.writer_backlog()
        if bound is not None and waiting >= BACKED_UP_SHARE * bound:
            return f"the writer is backed up: {waiting} writes waiting (bound {bound})"
        if retrying := metering.settlements_waiting():
            return f"{retrying} settlements are waiting for the database"
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


def build_readiness(engine: AsyncEngine, metering: Metering, redis_url: str | None) -> Readiness:
    checks = {"database": database_check(engine), "writer": writer_check(metering)}
    closers = []
    if redis_url:
        checks["redis"], close = redis_check(redis_url)
        closers.append(close)
    return Readiness(checks, closers=closers)
