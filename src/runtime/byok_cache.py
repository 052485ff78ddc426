"""Every client's BYOK configuration, decrypted once per configuration revision and kept in
memory (the hot path reads no SQL while the revision holds: storing or removing a credential,
or changing settings, bumps it). `last used` times are gathered in memory and written at most
once a minute, in the background."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from domain.byok.credentials import ClientByok
from domain.byok.ports import ByokLookup
from domain.ports import ConfigRevision

log = logging.getLogger("bizgraph.byok")

TOUCH_EVERY_SECONDS = 60.0


class ByokCache(ByokLookup):
    def __init__(
        self,
        load: Callable[[], Awaitable[dict[str, ClientByok]]],
        revision: ConfigRevision,
        *,
        touch: Callable[[dict[str, datetime]], Awaitable[None]] | None = None,
        now: Callable[[], datetime] | None = None,
        touch_every: float = TOUCH_EVERY_SECONDS,
    ) -> None:
        self._load = load
        self._revision = revision
        self._revision_seen: int | None = None
        self._snapshot_seen: object = None
        self._clients: dict[str, ClientByok] = {}
        self._lock = asyncio.Lock()
        self._touch = touch
        self._now = now
        self._touch_every = touch_every
        self._used: dict[str, datetime] = {}
        self._last_touch = time.monotonic()
        self._tasks: set[asyncio.Task[None]] = set()

    async def for_client(self, client_id: str, snapshot: object = None) -> ClientByok | None:
        """The client's configuration as of the current revision. A call passes the snapshot
        it was authorized against (runtime/lookups.py keeps one per revision): the same
        object as the last call's means the same revision, so nothing is read at all."""
        if snapshot is not None and snapshot is self._snapshot_seen:
            return self._clients.get(client_id)
        current = await self._revision.current()
        if current != self._revision_seen:
            async with self._lock:  # one load per revision, however many calls wait
                if current != self._revision_seen:
                    self._clients = await self._load()
                    self._revision_seen = current
        self._snapshot_seen = snapshot
        return self._clients.get(client_id)

    def note_used(self, credential_id: str) -> None:
        if self._touch is None or self._now is None:
            return
        self._used[credential_id] = self._now()
        if time.monotonic() - self._last_touch >= self._touch_every:
            self._flush_soon()

    def _flush_soon(self) -> None:
        self._last_touch = time.monotonic()
        used, self._used = self._used, {}
        task = asyncio.get_running_loop().create_task(self._write(used))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, used: dict[str, datetime]) -> None:
        assert self._touch is not None
        try:
            await self._touch(used)
        except Exception:
            log.warning("could not record when BYOK credentials were last used", exc_info=True)

    async def flush(self) -> None:
        """Write what is gathered now (shutdown, tests)."""
        if self._used and self._touch is not None:
            used, self._used = self._used, {}
            await self._write(used)
        if self._tasks:
            await asyncio.gather(*self._tasks)
