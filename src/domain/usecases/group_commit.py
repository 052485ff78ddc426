"""Group commit: write jobs queued while a transaction commits share the next one, so
concurrent calls pay for one commit between them instead of one each."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from domain.errors import WriteConflict
from domain.ports import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")
Job = Callable[[UnitOfWork], Awaitable[Any]]
# Jobs of one batch lock rows in the order they come (a settlement: daily totals then budget
# counters; a reservation: counters only), so two processes' batches may deadlock. PostgreSQL
# aborts one of them; its jobs are run again, alone, a few times.
_CONFLICT_RETRIES = 5


class GroupCommit:
    def __init__(self, uow: UnitOfWorkFactory, max_batch: int = 128) -> None:
        self._uow = uow
        self._max_batch = max_batch
        self._queue: list[tuple[Job, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, job: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run `job` in a transaction and return once that transaction committed. The job
        completes even if the caller is cancelled (it is shielded)."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((job, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        result: T = await asyncio.shield(done)
        return result

    async def _drain(self) -> None:
        while self._queue:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[Job, asyncio.Future[Any]]], tries: int = 0) -> None:
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
    done: asyncio.Future[Any], *, result: Any = None, exc: Exception | None = None
) -> None:
    if done.cancelled():
        return
    if exc is not None:
        done.set_exception(exc)
    else:
        done.set_result(result)
