"""The contract suite's store: every test here runs on the in-memory fakes (tests/fakes/), on
SQLite and on PostgreSQL, through the same `domain.ports.UnitOfWork`, so a fake cannot drift
from the real store. The databases are the persistence tests' own (../conftest.py): a migrated,
empty database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from adapters.persistence.database import create_engine
from adapters.persistence.unit_of_work import unit_of_work_factory
from domain.ports import UnitOfWorkFactory
from tests.fakes import FakeUnitOfWorkFactory

STORES = [
    pytest.param("fake", id="fake"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest) -> str | None:
    """None for the fakes, else the URL of an empty migrated database of that backend."""
    if request.param == "fake":
        return None
    return str(request.getfixturevalue(f"{request.param}_database_url"))


@pytest_asyncio.fixture
async def store(store_url: str | None) -> AsyncIterator[UnitOfWorkFactory]:
    """A factory of units of work over one empty store."""
    if store_url is None:
        yield FakeUnitOfWorkFactory()
        return
    engine = create_engine(store_url)
    try:
        yield unit_of_work_factory(engine)
    finally:
        await engine.dispose()
