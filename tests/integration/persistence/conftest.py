"""Fixtures running every persistence contract test on SQLite and on PostgreSQL.

`database_url` (params "sqlite", "postgres") is a migrated, empty database per test; it only
depends on databases.py, shared with the API tests (tests/support/databases.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.database import create_engine
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork, unit_of_work_factory
from tests.support.databases import (
    empty_postgres,
    postgres_database,
    require_postgres,
    sqlite_database,
    sqlite_template,
)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_session_url() -> AsyncIterator[str]:
    """One migrated throwaway PostgreSQL database for the whole run, dropped at the end."""
    await require_postgres()
    async with postgres_database() as url:
        yield url


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def sqlite_template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once; every SQLite test gets a copy (a fresh database per test)."""
    return await sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest_asyncio.fixture
async def sqlite_database_url(tmp_path: Path, sqlite_template_path: Path) -> AsyncIterator[str]:
    async with sqlite_database(tmp_path, template=sqlite_template_path) as url:
        yield url


@pytest_asyncio.fixture
async def postgres_database_url(postgres_session_url: str) -> str:
    await empty_postgres(postgres_session_url)
    return postgres_session_url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """A migrated database holding no rows, on the parametrized backend."""
    return str(request.getfixturevalue(f"{backend}_database_url"))


@pytest_asyncio.fixture
async def empty_database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database that exists (PostgreSQL) or will be created (SQLite), with no schema."""
    if backend == "sqlite":
        async with sqlite_database(tmp_path, migrate=False) as url:
            yield url
        return
    await require_postgres()
    async with postgres_database(migrate=False) as url:
        yield url


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def uow(engine: AsyncEngine) -> Callable[[], SqlAlchemyUnitOfWork]:
    return unit_of_work_factory(engine)
