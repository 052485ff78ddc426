"""Two applications in one process share no runtime (src/runtime/): each container owns its
relay pool, group commit and snapshot cache, and an application's shutdown waits for its own
streams only. (The relay pool used to be a module-level set that every app waited on.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from api.app import create_app
from api.container import make_container
from api.settings import Environment, Settings
from domain.metering.tokens import TokenUsage
from domain.runtime_ports import Outcome
from tests.support.databases import sqlite_database

GUARD_SECONDS = 30  # far below the drain a shared pool would make app B's shutdown wait for


class HeldStream:
    """A provider stream that sends its first item, then waits until released."""

    def __init__(self) -> None:
        self.usage: TokenUsage | None = None
        self.released = asyncio.Event()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._items()

    async def _items(self) -> AsyncIterator[str]:
        await self.released.wait()
        yield "done"

    async def aclose(self) -> None:
        return None


def settings_for(url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=url,
        secret_key="two-apps-secret-" + "t" * 32,
        env=Environment.DEVELOPMENT,
        data_dir=tmp_path,
        drain_after_disconnect_seconds=3600,  # a shutdown waits that long for open streams
        config_check_seconds=0,
    )


def test_each_container_has_a_runtime_of_its_own(tmp_path: Path) -> None:
    settings = settings_for("sqlite:///" + str(tmp_path / "unused.db"), tmp_path)
    a, b = make_container(settings), make_container(settings)
    assert a.relays() is a.relays()  # one per application...
    assert a.relays() is not b.relays()  # ...and none shared
    assert a.writes() is not b.writes()
    assert a.lookups() is not b.lookups()


async def test_an_app_shutting_down_waits_for_its_own_streams_only(tmp_path: Path) -> None:
    async with sqlite_database(tmp_path) as url_a, sqlite_database(tmp_path) as url_b:
        container_a = make_container(settings_for(url_a, tmp_path))
        app_a = create_app(settings_for(url_a, tmp_path), container_a)
        container_b = make_container(settings_for(url_b, tmp_path))
        app_b = create_app(settings_for(url_b, tmp_path), container_b)
        settled: list[Outcome] = []

        async def settle(outcome: Outcome) -> None:
            settled.append(outcome)

        stream = HeldStream()
        async with app_a.router.lifespan_context(app_a):
            try:
                lifespan_b = app_b.router.lifespan_context(app_b)
                await lifespan_b.__aenter__()
                container_a.relays().start(stream, "first", len, settle, drain_seconds=3600)
                assert container_a.relays().running == 1
                assert container_b.relays().running == 0
                # Under a shared pool, B's shutdown would wait up to its drain (an hour) for
                # A's stream: the guard turns that into a failure.
                await asyncio.wait_for(lifespan_b.__aexit__(None, None, None), GUARD_SECONDS)
                assert settled == []  # A's stream is still open
                assert container_a.relays().running == 1
            finally:
                stream.released.set()
        # A's shutdown waited for its own stream to settle.
        assert len(settled) == 1
        assert settled[0].output_chars == len("first") + len("done")
        assert container_a.relays().running == 0
