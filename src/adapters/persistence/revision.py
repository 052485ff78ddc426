"""The configuration revision, read on demand (by RevisionWatch's background check, or by a
call when no recent check can be trusted) and shared by the callers waiting for it."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.database import READ_ONLY_OPTION
from adapters.persistence.outages import outages_as_domain_errors
from adapters.persistence.repositories._sql import CONFIG_REVISION
from adapters.persistence.tables.schema import revisions
from domain.ports import ConfigRevision

_QUERY = select(revisions.c.value).where(revisions.c.name == CONFIG_REVISION)


class SqlConfigRevision(ConfigRevision):
    """Single-flight: a caller waits for the next read that *starts* after it asked, so it never
    sees a value older than its own arrival; callers arriving together share one read."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(**{READ_ONLY_OPTION: True})
        self._next: asyncio.Future[int] | None = None
        self._reader: asyncio.Task[None] | None = None

    async def current(self) -> int:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        waiting = self._next
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._serve_waiters())
        return await asyncio.shield(waiting)

    async def _serve_waiters(self) -> None:
        while self._next is not None:
            batch, self._next = self._next, None  # whoever asked before this read starts
            try:
                batch.set_result(await self._read())
            except Exception as exc:
                batch.set_exception(exc)

    async def _read(self) -> int:
        async with outages_as_domain_errors(), self._engine.connect() as conn:
            value = (await conn.execute(_QUERY)).scalar()
        return int(value or 0)
