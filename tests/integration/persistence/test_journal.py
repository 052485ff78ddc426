"""The call journal: idempotent start, finish, and what recovery must settle."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta

import pytest

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.errors import NotFound
from domain.journal import JournalState
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
