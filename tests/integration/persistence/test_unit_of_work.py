"""Transactions: commit, rollback on leaving without commit, and concurrent writers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork, unit_of_work_factory
from domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.integration.persistence import builders

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


def test_adapters_name_their_ports(engine: AsyncEngine) -> None:
    factory: UnitOfWorkFactory = unit_of_work_factory(engine)
    unit = factory()
    assert isinstance(unit, SqlAlchemyUnitOfWork)
    assert UnitOfWork in type(unit).__mro__


async def test_leaving_without_commit_rolls_back(uow: UowFactory) -> None:
    client = builders.client()
    async with uow() as tx:
        await tx.clients.add(client)
        assert await tx.clients.get(client.id) == client
    async with uow() as tx:
        assert await tx.clients.get(client.id) is None


async def test_an_exception_rolls_back(uow: UowFactory) -> None:
    client = builders.client()

    async def add_then_fail() -> None:
        async with uow() as tx:
            await tx.clients.add(client)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await add_then_fail()
    async with uow() as tx:
        assert await tx.clients.list() == []


async def test_explicit_rollback_discards_and_commit_keeps(uow: UowFactory) -> None:
    kept, dropped = builders.client(name="kept"), builders.client(name="dropped")
    async with uow() as tx:
        await tx.clients.add(dropped)
        await tx.rollback()
        await tx.clients.add(kept)
        await tx.commit()
    async with uow() as tx:
        assert [c.name for c in await tx.clients.list()] == ["kept"]


async def test_read_only_unit_of_work_reads(engine: AsyncEngine, uow: UowFactory) -> None:
    client = builders.client()
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.commit()
    async with unit_of_work_factory(engine, read_only=True)() as tx:
        assert await tx.clients.get(client.id) == client


async def test_concurrent_read_then_write_transactions_all_succeed(uow: UowFactory) -> None:
    """Many short transactions that read, then write: no 'database is locked' on SQLite."""
    client = builders.client()
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.commit()

    async def settle(n: int) -> None:
        async with uow() as tx:
            await tx.ledger.balance(client.id, "USD")
            await tx.journal.start(builders.journal(request_id=f"req-{n}"))
            await asyncio.sleep(0)
            await tx.ledger.append(builders.entry(client.id, "0.000001", reference=f"r{n}"))
            await tx.commit()

    await asyncio.gather(*(settle(n) for n in range(40)))

    async with uow() as tx:
        balance = await tx.ledger.balance(client.id, "USD")
        entries = await tx.ledger.entries(client.id)
    assert len(entries) == 40
    assert balance.amount == Decimal("0.00004")
