"""UnitOfWork contract: one transaction over every repository, on the fakes, SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest

from domain.billing.clients import Client
from domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.integration.persistence import builders
from tests.integration.persistence.contracts import seed


async def test_an_entered_unit_of_work_opens_every_repository_of_the_port(
    store: UnitOfWorkFactory,
) -> None:
    # The port lists the repositories once; an implementation that sets them on entering the
    # block (as the SQL one does) is only checked here, not by mypy.
    repositories = [name for name in UnitOfWork.__annotations__ if not name.startswith("_")]
    assert len(repositories) == 16  # with wallets and exchange rates (docs/currencies.md)
    async with store() as uow:
        missing = [name for name in repositories if getattr(uow, name, None) is None]
    assert missing == []


async def test_what_is_committed_is_seen_by_the_next_unit_of_work(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        added = await seed.client(uow)
        await uow.commit()
    async with store() as uow:
        assert await uow.clients.get(added.id) == added


async def test_leaving_without_commit_discards_every_repositorys_writes(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        client = await seed.client(uow)
        key = await seed.key(uow, client.id)
        await uow.usage.add(builders.usage(client.id, key.id))
        await uow.ledger.append(builders.entry(client.id, "1"))
    async with store() as uow:
        assert await uow.clients.get(client.id) is None
        assert await uow.keys.by_digest(key.digest) is None
        assert await uow.ledger.entries(client.id) == []


async def failing_use_case(store: UnitOfWorkFactory, client: Client) -> None:
    async with store() as uow:
        await uow.clients.add(client)
        raise RuntimeError("the use case failed")


async def test_an_error_inside_the_block_rolls_back(store: UnitOfWorkFactory) -> None:
    client = builders.client()
    with pytest.raises(RuntimeError):
        await failing_use_case(store, client)
    async with store() as uow:
        assert await uow.clients.get(client.id) is None


async def test_rollback_discards_what_was_not_committed(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        kept = await seed.client(uow)
        await uow.commit()
    async with store() as uow:
        dropped = await seed.client(uow)
        await uow.rollback()
    async with store() as uow:
        assert await uow.clients.get(kept.id) == kept
        assert await uow.clients.get(dropped.id) is None
