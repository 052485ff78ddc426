"""Group commit: write jobs queued while a transaction commits share the next one, so
concurrent calls pay for one commit between them instead of one each."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from domain.errors import WriteConflict
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.runtime_ports import Job, Writes

T = TypeVar("T")
# Jobs of one batch lock rows in the order they come (a settlement: daily totals then budget
# counters; a reservation: counters only), so two processes' batches may deadlock. PostgreSQL
# aborts one of them; its jobs are run again, alone, a few times.
_CONFLICT_RETRIES = 5

log = logging.getLogger("bizgraph.group_commit")


class GroupCommit(Writes):
    def __init__(self, uow: UnitOfWorkFactory, max_batch: int = 128) -> None:
        self._uow = uow
        self._max_batch = max_batch
        self._queue: list[tuple[Job, asyncio.Future[Any] | None]] = []
        self._deferred: dict[Hashable, Job] = {}
        self._writer: asyncio.Task[None] | None = None

    async def run(self, job: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run `job` in a transaction and return once that transaction committed. The job
        completes even if the caller is cancelled (it is shielded)."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((job, done))
        self._wake()
        result: T = await asyncio.shield(done)
        return result

    def defer(self, key: Hashable, job: Job) -> None:
        """Write `job` with the next batch, without waiting for it; a later job under the same
        key replaces one not yet written (a progress counter needs only its latest value).
        Best effort: a failure is logged, never raised."""
        self._deferred[key] = job
        self._wake()

    @property
    def waiting(self) -> int:
        """Jobs queued and not yet taken into a transaction."""
        return len(self._queue)

    async def flush(self) -> None:
        """Return once every job queued so far has been committed (or has failed)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    def _wake(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._queue or self._deferred:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            batch.extend((job, None) for job in self._deferred.values())
            self._deferred.clear()
            await self._commit(batch)

    async def _commit(
        self, batch: list[tuple[Job, asyncio.Future[Any] | None]], tries: int = 0
    ) -> None:
        try:
            async with self._uow() as uow:
                results = [await job(uow) for job, _ in batch]
                await uow.commit()
        except Exception as exc:
            if len(batch) == 1:
                if isinstance(exc, WriteConflict) and tries < _CONFLICT_RETRIES:
                    await asyncio.sleep(random.uniform(0.005, 0.05) * (tries + 1))
                    await self._commit(batch, tries + 1)
                    return
                _settle_future(batch[0][1], exc=exc)
                return
            for item in batch:  # one failing job must not fail the others: run them alone
                await self._commit([item])
            return
        for (_, done), result in zip(batch, results, strict=True):
            _settle_future(done, result=result)


def _settle_future(
    done: asyncio.Future[Any] | None, *, result: Any = None, exc: Exception | None = None
) -> None:
    if done is None:  # a deferred job: nobody waits for it
        if exc is not None:
            log.warning("a deferred write failed: %s", exc)
        return
    if done.cancelled():
        return
    if exc is not None:
        done.set_exception(exc)
    else:
        done.set_result(result)
