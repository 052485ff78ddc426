"""Database failures the gateway must answer with a 503 or run again, translated by the unit of
work into the domain's StoreUnavailable / WriteConflict (adapters/persistence/outages.py)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.database import create_engine
from adapters.persistence.outages import outages_as_domain_errors
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork, unit_of_work_factory
from domain.errors import StoreUnavailable, WriteConflict
from tests.support.private_services import free_port


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("postgresql://postgres@127.0.0.1:{port}/nowhere", id="postgres"),
        pytest.param("sqlite:////nonexistent-{port}/dir/bizgraph.db", id="sqlite"),
    ],
)
async def test_a_database_that_cannot_be_reached_is_unavailable(url: str) -> None:
    engine = create_engine(url.format(port=free_port()))
    try:
        with pytest.raises(StoreUnavailable, match="database is unavailable"):
            async with unit_of_work_factory(engine)() as uow:
                await uow.clients.get("anyone")
    finally:
        await engine.dispose()
        await _aiosqlite_threads_ended()


async def _aiosqlite_threads_ended() -> None:
    """aiosqlite's worker answers a failed connect's close from its own thread a moment later;
    if this test's loop closed first, that thread dies with 'Event loop is closed' and pytest
    blames whichever test runs next. Wait for those threads to end."""
    for _ in range(500):
        if not any(
            t.is_alive() and "_connection_worker_thread" in t.name for t in threading.enumerate()
        ):
            return
        await asyncio.sleep(0.01)


async def test_a_failure_that_is_no_outage_leaves_as_itself(
    uow: Callable[[], SqlAlchemyUnitOfWork],
) -> None:
    """A bug in the block is not turned into an outage (no 503 hiding a 500)."""

    async def buggy() -> None:
        async with uow() as tx:
            await tx.clients.get("anyone")
            raise KeyError("a bug")

    with pytest.raises(KeyError):
        await buggy()


@pytest.mark.postgres
async def test_a_postgres_deadlock_is_a_write_conflict(postgres_database_url: str) -> None:
    engine = create_engine(postgres_database_url)
    table = f"deadlock_{uuid.uuid4().hex[:8]}"
    try:
        async with engine.begin() as setup:
            await setup.execute(text(f"CREATE TABLE {table} (id int PRIMARY KEY, v int)"))
            await setup.execute(text(f"INSERT INTO {table} VALUES (1, 0), (2, 0)"))
        async with engine.connect() as a, engine.connect() as b:
            await a.execute(text(f"UPDATE {table} SET v = 1 WHERE id = 1"))
            await b.execute(text(f"UPDATE {table} SET v = 1 WHERE id = 2"))

            async def cross(conn: AsyncConnection, row: int) -> None:
                async with outages_as_domain_errors():
                    await conn.execute(text(f"UPDATE {table} SET v = 2 WHERE id = {row}"))

            outcomes = await asyncio.gather(cross(a, 2), cross(b, 1), return_exceptions=True)
            await a.rollback()
            await b.rollback()
        assert [type(o) for o in outcomes if o is not None] == [WriteConflict]
    finally:
        async with engine.begin() as teardown:
            await teardown.execute(text(f"DROP TABLE IF EXISTS {table}"))
        await engine.dispose()
