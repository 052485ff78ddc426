"""Group commit: concurrent jobs share a transaction; a failing job fails alone."""

from __future__ import annotations

import asyncio

import pytest

from domain.errors import Conflict, WriteConflict
from domain.metering.journal import JournalEntry
from domain.ports import UnitOfWork
from runtime.group_commit import GroupCommit
from tests.fakes import FakeUnitOfWorkFactory, FrozenClock

NOW = FrozenClock().now()


def entry(request_id: str) -> JournalEntry:
    return JournalEntry(request_id, "client", "key", "demo/chat", NOW, 10)


async def test_jobs_queued_together_commit_in_one_transaction() -> None:
    uow = FakeUnitOfWorkFactory()
    writes = GroupCommit(uow)

    results = await asyncio.gather(
        *(writes.run(lambda tx, i=i: tx.journal.start(entry(f"r{i}"))) for i in range(10))
    )

    assert results == [True] * 10
    assert len(uow.made) == 1
    assert set(uow.store.journal) == {f"r{i}" for i in range(10)}


async def test_a_failing_job_fails_alone_and_the_others_commit() -> None:
    uow = FakeUnitOfWorkFactory()
    writes = GroupCommit(uow)

    async def broken(tx: UnitOfWork) -> None:
        await tx.journal.start(entry("broken"))
        raise Conflict("no")

    outcomes = await asyncio.gather(
        writes.run(lambda tx: tx.journal.start(entry("a"))),
        writes.run(broken),
        writes.run(lambda tx: tx.journal.start(entry("b"))),
        return_exceptions=True,
    )

    assert outcomes[0] is True
    assert outcomes[2] is True
    assert isinstance(outcomes[1], Conflict)
    assert set(uow.store.journal) == {"a", "b"}


async def test_a_cancelled_caller_still_gets_its_job_committed() -> None:
    uow = FakeUnitOfWorkFactory()
    writes = GroupCommit(uow)
    call = asyncio.ensure_future(writes.run(lambda tx: tx.journal.start(entry("x"))))
    await asyncio.sleep(0)

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    await asyncio.sleep(0.01)

    assert "x" in uow.store.journal


async def test_a_deferred_job_rides_the_next_batch_and_the_latest_per_key_wins() -> None:
    uow = FakeUnitOfWorkFactory()
    writes = GroupCommit(uow)
    await writes.run(lambda tx: tx.journal.start(entry("r")))
    made = len(uow.made)

    writes.defer("r", lambda tx: tx.journal.checkpoint("r", 10))
    writes.defer("r", lambda tx: tx.journal.checkpoint("r", 20))  # replaces the first
    await writes.run(lambda tx: tx.journal.start(entry("s")))

    assert len(uow.made) == made + 1  # one transaction for the call's write and the checkpoint
    assert uow.store.journal["r"].output_chars == 20


async def test_a_failing_deferred_job_is_logged_and_fails_nobody(
    caplog: pytest.LogCaptureFixture,
) -> None:
    uow = FakeUnitOfWorkFactory()
    writes = GroupCommit(uow)

    async def broken(tx: UnitOfWork) -> None:
        raise Conflict("no")

    writes.defer("x", broken)
    assert await writes.run(lambda tx: tx.journal.start(entry("a"))) is True
    assert "a deferred write failed" in caplog.text


async def test_a_job_aborted_by_a_write_conflict_runs_again_and_commits() -> None:
    uow = FakeUnitOfWorkFactory()
    writes = GroupCommit(uow)
    conflicts = [WriteConflict("deadlock detected")] * 2  # PostgreSQL aborted it twice

    async def contended(tx: UnitOfWork) -> bool:
        if conflicts:
            raise conflicts.pop()
        return await tx.journal.start(entry("contended"))

    assert await writes.run(contended) is True
    assert "contended" in uow.store.journal


async def test_a_job_that_keeps_conflicting_fails_with_the_conflict() -> None:
    writes = GroupCommit(FakeUnitOfWorkFactory())

    async def always(tx: UnitOfWork) -> None:
        raise WriteConflict("deadlock detected")

    with pytest.raises(WriteConflict):
        await writes.run(always)
