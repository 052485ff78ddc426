"""JournalRepository and LeaseRepository contracts, on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import NotFound
from domain.metering.journal import JournalState
from domain.metering.leases import ProcessLease, is_orphaned
from domain.ports import UnitOfWorkFactory
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0

PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
MINUTE = timedelta(minutes=1)


async def test_a_call_is_started_once(store: UnitOfWorkFactory) -> None:
    entry = builders.journal(owner="p-1", prompt_chars=120)
    async with store() as uow:
        assert await uow.journal.start(entry)
        assert not await uow.journal.start(replace(entry, max_output_tokens=1))
        await uow.commit()
    async with store() as uow:
        assert await uow.journal.unsettled(T0 + MINUTE) == [entry]


async def test_the_first_finish_wins(store: UnitOfWorkFactory) -> None:
    entry = builders.journal()
    async with store() as uow:
        await uow.journal.start(entry)
        assert await uow.journal.finish(entry.request_id, JournalState.SETTLED)
        assert not await uow.journal.finish(entry.request_id, JournalState.ABANDONED)
        assert await uow.journal.unsettled(T0 + MINUTE) == []
        with pytest.raises(NotFound):
            await uow.journal.finish("r-unknown", JournalState.SETTLED)


async def test_a_checkpoint_counts_only_while_the_call_runs(store: UnitOfWorkFactory) -> None:
    running, closed = builders.journal(), builders.journal()
    async with store() as uow:
        await uow.journal.start(running)
        await uow.journal.start(closed)
        await uow.journal.checkpoint(running.request_id, 500)
        await uow.journal.finish(closed.request_id, JournalState.SETTLED)
        await uow.journal.checkpoint(closed.request_id, 700)
        await uow.journal.checkpoint("r-unknown", 1)
        assert await uow.journal.unsettled(T0 + MINUTE) == [replace(running, output_chars=500)]


@PROPERTY
@given(
    calls=st.lists(
        st.tuples(
            st.integers(-30, 30),  # started, minutes after T0
            st.sampled_from([None, "p-live", "p-dead", "p-gone"]),  # owner
            st.booleans(),  # closed
        ),
        max_size=8,
    ),
    cutoff=st.integers(-30, 30),
    with_leases=st.booleans(),
)
async def test_unsettled_rows_are_what_recovery_may_settle_oldest_first(
    store: UnitOfWorkFactory,
    calls: list[tuple[int, str | None, bool]],
    cutoff: int,
    with_leases: bool,
) -> None:
    now = T0 + timedelta(minutes=10)
    safety_cutoff = T0 + timedelta(minutes=cutoff)
    entries = [
        builders.journal(request_id=f"r-{n}", started_at=T0 + minutes * MINUTE, owner=owner)
        for n, (minutes, owner, _) in enumerate(calls)
    ]
    async with store() as uow:  # never committed: each example starts from an empty store
        await uow.leases.renew(ProcessLease("p-live", now + MINUTE))
        await uow.leases.renew(ProcessLease("p-dead", now))  # expired at `now`: not live
        for entry, (_, _, closed) in zip(entries, calls, strict=True):
            await uow.journal.start(entry)
            if closed:
                await uow.journal.finish(entry.request_id, JournalState.SETTLED)
        found = await uow.journal.unsettled(safety_cutoff, now if with_leases else None)
    still_open = [e for e, (_, _, closed) in zip(entries, calls, strict=True) if not closed]
    if with_leases:
        expected = [e for e in still_open if is_orphaned(e, {"p-live"}, safety_cutoff)]
    else:
        expected = [e for e in still_open if e.started_at < safety_cutoff]
    assert list(found) == sorted(expected, key=lambda e: (e.started_at, e.request_id))


async def test_a_lease_is_live_until_it_expires_and_renewing_extends_it(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        await uow.leases.renew(ProcessLease("p-b", T0 + MINUTE))
        await uow.leases.renew(ProcessLease("p-a", T0 + MINUTE))
        await uow.leases.renew(ProcessLease("p-c", T0))
        await uow.commit()
    async with store() as uow:
        assert [x.process_id for x in await uow.leases.live(T0)] == ["p-a", "p-b"]
        assert await uow.leases.live(T0 + MINUTE) == []
        await uow.leases.renew(ProcessLease("p-b", T0 + 2 * MINUTE))
        assert await uow.leases.live(T0 + MINUTE) == [ProcessLease("p-b", T0 + 2 * MINUTE)]


async def test_release_and_purge_forget_leases(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        for name, expires in (("p-1", T0), ("p-2", T0 + MINUTE), ("p-3", T0 + 2 * MINUTE)):
            await uow.leases.renew(ProcessLease(name, expires))
        await uow.leases.release("p-3")
        await uow.leases.release("p-unknown")
        assert await uow.leases.purge(T0 + MINUTE) == 1  # expired strictly before
        assert await uow.leases.live(T0 - MINUTE) == [ProcessLease("p-2", T0 + MINUTE)]
