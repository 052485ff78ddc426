"""Fixtures shared by the process tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.support.databases import postgres_database, require_postgres, sqlite_database


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database of its own, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        async with sqlite_database(tmp_path) as url:
            yield url
        return
    await require_postgres()
    async with postgres_database() as url:
        yield url
