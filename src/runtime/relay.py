"""Relaying a provider stream to a client while metering it.

A detached task reads the upstream to its end and settles, whatever the client does: a client
that disconnects mid-stream is still billed for what the provider billed. After a disconnect
the task keeps reading for at most `drain_seconds` (to reach the provider's usage report),
then closes the upstream and bills what it knows (docs/metering.md). Every few seconds it
checkpoints the output relayed so far on the journal row, so a crash bills that much.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from domain.providers import ProviderError
from domain.runtime_ports import MeteredStream, Outcome, Relays

_END = object()


class Relay:
    """Reads `stream` in a task of its own; iterate the Relay to receive its items. The task
    is added to `running` until it ends (the pool's strong reference: the loop keeps only
    weak ones to tasks)."""

    def __init__(
        self,
        stream: MeteredStream,
        first: Any,
        chars_of: Callable[[Any], int],
        settle: Callable[[Outcome], Awaitable[None]],
        drain_seconds: float,
        buffer: int = 64,
        checkpoint: Callable[[int], None] | None = None,
        checkpoint_seconds: float = 2.0,
        running: set[asyncio.Task[None]] | None = None,
    ) -> None:
        self._stream = stream
        self._checkpoint = checkpoint  # told the output relayed so far, at most every interval
        self._checkpoint_seconds = checkpoint_seconds
        self._next_checkpoint = time.monotonic() + checkpoint_seconds
        self._chars_of = chars_of
        self._settle = settle
        self._drain_seconds = drain_seconds
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=buffer)
        self._queue.put_nowait(first)
        self._gone_at: float | None = None
        self.outcome = Outcome()
        self.outcome.output_chars = chars_of(first)
        self._task = asyncio.get_running_loop().create_task(self._pump())
        if running is not None:
            running.add(self._task)
            self._task.add_done_callback(running.discard)

    async def _pump(self) -> None:
        try:
            async for item in self._stream:
                self.outcome.output_chars += self._chars_of(item)
                if self._checkpoint is not None:
                    self._maybe_checkpoint()
                if self._gone_at is None:
                    await self._hand_over(item)
                elif time.monotonic() - self._gone_at > self._drain_seconds:
                    self.outcome.cut_short = True
                    break
        except ProviderError as exc:
            self.outcome.error = exc
        finally:
            await self._stream.aclose()
            try:
                await self._settle(self.outcome)
            finally:
                if self._gone_at is None:
                    await self._hand_over(_END)

    def _maybe_checkpoint(self) -> None:
        """A crash then bills at least what had reached the client (docs/metering.md)."""
        now = time.monotonic()
        if now >= self._next_checkpoint and self._checkpoint is not None:
            self._next_checkpoint = now + self._checkpoint_seconds
            self._checkpoint(self.outcome.output_chars)

    async def _hand_over(self, item: Any) -> None:
        """Queue an item for the client. A client that takes nothing for `drain_seconds` while
        the buffer is full has gone without saying so (e.g. it left before the response started
        iterating): stop waiting for it, so the call still settles."""
        if not self._queue.full():
            self._queue.put_nowait(item)
            return
        try:
            async with asyncio.timeout(self._drain_seconds):
                await self._queue.put(item)
        except TimeoutError:
            self._client_left()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._items()

    async def _items(self) -> AsyncIterator[Any]:
        try:
            while (item := await self._queue.get()) is not _END:
                yield item
        finally:
            self._client_left()

    def _client_left(self) -> None:
        if self._gone_at is None:
            self._gone_at = time.monotonic()
        while not self._queue.empty():  # unblock a pending put
            self._queue.get_nowait()

    async def wait_settled(self) -> None:
        await asyncio.shield(self._task)


class RelayPool(Relays):
    """The relays of one application: started by its calls, waited for at its shutdown.
    One per container, so two applications in one process never wait for each other's."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[None]] = set()

    def start(
        self,
        stream: MeteredStream,
        first: Any,
        chars_of: Callable[[Any], int],
        settle: Callable[[Outcome], Awaitable[None]],
        drain_seconds: float,
        *,
        checkpoint: Callable[[int], None] | None = None,
        checkpoint_seconds: float = 2.0,
    ) -> Relay:
        return Relay(
            stream,
            first,
            chars_of,
            settle,
            drain_seconds,
            checkpoint=checkpoint,
            checkpoint_seconds=checkpoint_seconds,
            running=self._running,
        )

    @property
    def running(self) -> int:
        """Relays whose stream has not settled yet."""
        return len(self._running)

    async def wait(self, seconds: float) -> None:
        """Let in-flight relays settle (used at shutdown), for at most `seconds`."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=seconds)
