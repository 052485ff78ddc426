"""Configuration changes between real `bizgraph serve` processes sharing one database (a SQLite
file, or PostgreSQL): a key revoked through one process is refused by that process on its next
request and by the other within a second; a client suspended from the CLI (a third process) is
refused by both within a second (docs/metering.md, "Configuration changes").

Each gateway checks the configuration revision in the background and trusts a check for at
most a second, so every call *sent* more than a second after the change was confirmed must be
refused; calls sent earlier may still be served. Nothing else about timing is asserted."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from api.container import Container, close_container, make_container
from api.container.database import default_catalog
from api.settings import load_settings
from domain.billing.plans import PercentageMargin
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from tests.support.databases import postgres_database, require_postgres, sqlite_database
from tests.support.gateway_processes import (
    ADMIN_TOKEN,
    BIZGRAPH,
    gateway_env,
    refused_within_a_second,
    start_gateways,
    stop_gateway,
)
from tests.support.servers import serve_in_thread
from tests.upstreams.openai_fake import OpenAIScript, openai_fake_app

SINCE = datetime(2025, 1, 1, tzinfo=UTC)
BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@dataclass
class Pair:
    urls: list[str]
    env: dict[str, str]
    container: Container  # the test's own: one more process in the gateways' eyes

    async def client_with_key(self) -> tuple[str, str, str]:
        client, _ = await self.container.clients().create(
            NewClient("Propagation", PercentageMargin(Decimal(30)), plan_effective_from=SINCE)
        )
        issued = await self.container.keys().issue(NewKey(client.id))
        return client.id, issued.key.id, issued.secret


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_in_thread(openai_fake_app(OpenAIScript())) as url:
        yield url


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def pair(
    request: pytest.FixtureRequest, upstream: str, tmp_path: Path
) -> AsyncIterator[Pair]:
    """Two serving processes on one database."""
    if request.param == "postgres":
        await require_postgres()
        database = postgres_database()
    else:
        database = sqlite_database(tmp_path)
    async with database as url:
        env = gateway_env(url, upstream, tmp_path / "data")
        container = make_container(load_settings(env))
        await container.catalog().seed(*default_catalog())
        started = start_gateways(env, tmp_path / "serve.log", 2)
        try:
            yield Pair([u for u, _ in started], env, container)
        finally:
            for _, process in started:
                stop_gateway(process)
            await close_container(container)


async def call(http: httpx.AsyncClient, url: str, secret: str) -> httpx.Response:
    return await http.post(
        url + "/v1/chat/completions", json=BODY, headers={"authorization": f"Bearer {secret}"}
    )


async def test_a_revoked_key_is_refused_at_once_here_and_within_a_second_there(
    pair: Pair,
) -> None:
    here, there = pair.urls
    _, key_id, secret = await pair.client_with_key()
    async with httpx.AsyncClient(timeout=30) as http:
        for url in pair.urls:  # each process now holds the key in its snapshot
            assert (await call(http, url, secret)).status_code == 200

        revoked = await http.post(
            here + "/graphql",
            json={
                "query": "mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }",
                "variables": {"id": key_id},
            },
            headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        confirmed = time.monotonic()
        assert revoked.json()["data"]["revokeApiKey"]["__typename"] == "RevokeApiKeySuccess"

        assert (await call(http, here, secret)).status_code == 401  # the very next request
        await refused_within_a_second(http, there, secret, confirmed, 401)


async def test_a_client_suspended_from_the_cli_is_refused_everywhere_within_a_second(
    pair: Pair,
) -> None:
    client_id, _, secret = await pair.client_with_key()
    async with httpx.AsyncClient(timeout=30) as http:
        for url in pair.urls:
            assert (await call(http, url, secret)).status_code == 200

        suspended = await asyncio.to_thread(
            subprocess.run,
            [BIZGRAPH, "clients", "suspend", client_id],
            env=pair.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        confirmed = time.monotonic()
        assert suspended.returncode == 0, suspended.stdout + suspended.stderr

        for url in pair.urls:
            await refused_within_a_second(http, url, secret, confirmed, 403)
