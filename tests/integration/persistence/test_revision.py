"""The configuration revision moves with every write that authorization caches depend on, and
a unit of work reports its own committed change to this process (RevisionWatch.changed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.revision import SqlConfigRevision
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork, unit_of_work_factory
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


async def test_every_config_write_moves_the_revision(engine: AsyncEngine, uow: UowFactory) -> None:
    revision = SqlConfigRevision(engine)
    seen = [await revision.current()]
    client = builders.client()
    key = builders.key(client.id)

    async def write(step: Callable[[SqlAlchemyUnitOfWork], object]) -> None:
        async with uow() as tx:
            await step(tx)  # type: ignore[misc]
            await tx.commit()
        seen.append(await revision.current())

    await write(lambda tx: tx.clients.add(client))
    await write(lambda tx: tx.keys.add(key))
    await write(lambda tx: tx.keys.update(replace(key, revoked_at=T0 + timedelta(hours=1))))
    await write(lambda tx: tx.clients.update(replace(client, name="Renamed")))

    assert seen == sorted(set(seen))  # strictly increasing: every write moved it
    assert len(seen) == 5


async def test_reads_and_rolled_back_writes_leave_it_alone(
    engine: AsyncEngine, uow: UowFactory
) -> None:
    revision = SqlConfigRevision(engine)
    before = await revision.current()
    async with uow() as tx:
        await tx.clients.add(builders.client())  # never committed
    async with uow() as tx:
        await tx.clients.list()

    assert await revision.current() == before


async def test_concurrent_callers_share_reads(engine: AsyncEngine) -> None:
    revision = SqlConfigRevision(engine)

    values = await asyncio.gather(*(revision.current() for _ in range(20)))

    assert len(set(values)) == 1


class Commits:
    """Counts the configuration changes a unit of work reports (RevisionWatch.changed)."""

    def __init__(self) -> None:
        self.reported = 0

    def changed(self) -> None:
        self.reported += 1


async def test_a_committed_config_write_is_reported_once(engine: AsyncEngine) -> None:
    commits = Commits()
    uow = unit_of_work_factory(engine, on_config_change=commits.changed)
    client = builders.client()

    async with uow() as tx:
        await tx.clients.add(client)
        assert commits.reported == 0  # not before it is committed
        await tx.commit()
    assert commits.reported == 1
    async with uow() as tx:
        await tx.keys.add(builders.key(client.id))
        await tx.commit()
        await tx.commit()  # nothing new to report
    assert commits.reported == 2


async def test_rolled_back_and_other_writes_are_not_reported(engine: AsyncEngine) -> None:
    commits = Commits()
    uow = unit_of_work_factory(engine, on_config_change=commits.changed)
    async with uow() as tx:
        await tx.clients.add(builders.client())  # rolled back on leaving the block
    async with uow() as tx:  # likely the same pooled connection: the mark did not survive
        await tx.clients.list()
        await tx.commit()

    assert commits.reported == 0
