"""The call journal: idempotent start, finish, and what recovery must settle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.errors import NotFound
from domain.metering.journal import JournalState
from domain.metering.leases import ProcessLease
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0, T0_UTC

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


async def test_start_is_idempotent_on_request_id(uow: UowFactory) -> None:
    entry = builders.journal(request_id="req-1")
    async with uow() as tx:
        assert await tx.journal.start(entry) is True
        await tx.commit()
    async with uow() as tx:
        assert await tx.journal.start(builders.journal(request_id="req-1")) is False
        assert await tx.journal.start(builders.journal(request_id="req-2")) is True
        await tx.commit()
    async with uow() as tx:
        pending = await tx.journal.unsettled(T0 + timedelta(days=1))
    assert [e.request_id for e in pending] == ["req-1", "req-2"]
    assert pending[0] == entry
    assert pending[0].started_at == T0_UTC
    assert pending[0].started_at.tzinfo is UTC


async def test_unsettled_lists_started_calls_older_than_the_instant(uow: UowFactory) -> None:
    minute = timedelta(minutes=1)
    old = builders.journal(started_at=T0 - 5 * minute)
    older = builders.journal(started_at=T0 - 10 * minute)
    settled = builders.journal(started_at=T0 - 10 * minute)
    abandoned = builders.journal(started_at=T0 - 10 * minute)
    recent = builders.journal(started_at=T0)
    async with uow() as tx:
        for entry in (old, older, settled, abandoned, recent):
            assert await tx.journal.start(entry)
        await tx.journal.finish(settled.request_id, JournalState.SETTLED)
        await tx.journal.finish(abandoned.request_id, JournalState.ABANDONED)
        await tx.commit()

    async with uow() as tx:
        pending = await tx.journal.unsettled(T0)
    assert [e.request_id for e in pending] == [older.request_id, old.request_id]
    assert all(e.state is JournalState.STARTED for e in pending)


async def test_finish_of_unknown_request_is_not_found(uow: UowFactory) -> None:
    async with uow() as tx:
        with pytest.raises(NotFound):
            await tx.journal.finish("ghost", JournalState.SETTLED)


async def test_owner_prompt_size_and_checkpoint_are_stored(uow: UowFactory) -> None:
    entry = builders.journal(owner="proc-1", prompt_chars=1234)
    async with uow() as tx:
        await tx.journal.start(entry)
        await tx.journal.checkpoint(entry.request_id, 500)
        await tx.journal.checkpoint(entry.request_id, 900)
        await tx.commit()
    async with uow() as tx:
        [stored] = await tx.journal.unsettled(T0 + timedelta(days=1))
    assert stored == replace(entry, output_chars=900)
    assert stored.crash_estimate().output_tokens == 225


async def test_the_first_finish_wins_and_a_closed_row_takes_no_checkpoint(uow: UowFactory) -> None:
    entry = builders.journal()
    async with uow() as tx:
        await tx.journal.start(entry)
        assert await tx.journal.finish(entry.request_id, JournalState.ABANDONED) is True
        assert await tx.journal.finish(entry.request_id, JournalState.SETTLED) is False
        await tx.journal.checkpoint(entry.request_id, 77)
        await tx.commit()
    async with uow() as tx:
        assert await tx.journal.unsettled(T0 + timedelta(days=1)) == []


async def test_leases_are_renewed_listed_released_and_purged(uow: UowFactory) -> None:
    second = timedelta(seconds=1)
    async with uow() as tx:
        await tx.leases.renew(ProcessLease("a", T0 + 15 * second))
        await tx.leases.renew(ProcessLease("b", T0 + 15 * second))
        await tx.leases.renew(ProcessLease("a", T0 + 30 * second))  # a heartbeat extends
        await tx.commit()
    async with uow() as tx:
        assert await tx.leases.live(T0 + 20 * second) == [ProcessLease("a", T0_UTC + 30 * second)]
        await tx.leases.release("a")
        assert await tx.leases.live(T0) == [ProcessLease("b", T0_UTC + 15 * second)]
        assert await tx.leases.purge(T0 + 16 * second) == 1
        assert await tx.leases.live(T0) == []
        await tx.commit()


async def test_recovery_takes_the_calls_of_expired_unknown_owners_and_the_very_old(
    uow: UowFactory,
) -> None:
    second = timedelta(seconds=1)
    now, longest = T0 + 60 * second, timedelta(minutes=12)
    rows = {
        "live": builders.journal(owner="alive", started_at=T0),
        "expired": builders.journal(owner="dead", started_at=T0),
        "unknown": builders.journal(owner="never-registered", started_at=T0),
        "legacy": builders.journal(owner=None, started_at=T0),
        "very-old": builders.journal(owner="alive", started_at=now - longest - second),
        "legacy-old": builders.journal(owner=None, started_at=now - longest - second),
    }
    async with uow() as tx:
        await tx.leases.renew(ProcessLease("alive", now + 10 * second))
        await tx.leases.renew(ProcessLease("dead", now - second))
        for entry in rows.values():
            await tx.journal.start(entry)
        await tx.commit()

    async with uow() as tx:
        due = await tx.journal.unsettled(now - longest, live_at=now)
        old_only = await tx.journal.unsettled(now - longest)
    by_id = {entry.request_id: name for name, entry in rows.items()}
    assert sorted(by_id[e.request_id] for e in due) == [
        "expired",
        "legacy-old",
        "unknown",
        "very-old",
    ]
    assert sorted(by_id[e.request_id] for e in old_only) == ["legacy-old", "very-old"]
