"""The served app checks the configuration revision in the background while it serves and
stops checking when it shuts down (no task left behind); with BIZGRAPH_CONFIG_CHECK_SECONDS=0
nothing checks and every call reads the revision, as before the watch."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from dependency_injector import providers

from adapters.persistence.revision import SqlConfigRevision
from api.app import create_app
from api.container import make_container
from api.settings import Environment, Settings
from runtime.lookups import RevisionWatch
from tests.support.databases import sqlite_database


class CountingRevision:
    def __init__(self, inner: SqlConfigRevision) -> None:
        self.inner, self.reads = inner, 0
        self.repeated = asyncio.Event()  # a third read began

    async def current(self) -> int:
        self.reads += 1
        if self.reads >= 3:
            self.repeated.set()
        return await self.inner.current()


@pytest.mark.parametrize("seconds", [0.01, 0.0], ids=["checked", "off"])
async def test_the_check_runs_while_serving_and_stops_at_shutdown(
    tmp_path: Path, seconds: float
) -> None:
    async with sqlite_database(tmp_path) as url:
        settings = Settings(
            database_url=url,
            secret_key="config-watch-secret-" + "w" * 32,
            env=Environment.DEVELOPMENT,
            data_dir=tmp_path,
            config_check_seconds=seconds,
        )
        container = make_container(settings)
        source = CountingRevision(SqlConfigRevision(container.engine()))
        watch = RevisionWatch(source)
        container.config_revision.override(providers.Object(watch))
        app = create_app(settings, container)
        before = asyncio.all_tasks()

        async with app.router.lifespan_context(app):
            if seconds:
                # checks repeat on their own, no call asked
                await asyncio.wait_for(source.repeated.wait(), timeout=30)
            else:
                await asyncio.sleep(0.05)  # time for a check, were one running
                assert source.reads == 0
                await watch.current()
                await watch.current()
                assert source.reads == 2  # each call reads

        # A read begun before shutdown may still end on its own; a check loop never would.
        left = asyncio.all_tasks() - before - {asyncio.current_task()}
        if left:
            await asyncio.wait(left, timeout=30)
        assert {t for t in left if not t.done()} == set()
