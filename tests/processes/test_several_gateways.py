"""Real `bizgraph serve` processes sharing one database (and Redis), in front of a fake
OpenAI upstream: a hard budget, key revocation and rate limits hold between them, and a
process killed mid-calls leaves holds that recovery sweeps.

PostgreSQL with two processes; SQLite (one file, one writer) with one process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from api.container import Container, close_container, make_container
from api.container.database import default_catalog
from api.settings import load_settings
from domain.billing.plans import PercentageMargin
from domain.budgets.limits import BudgetStatus
from domain.usecases.budgets import BudgetInput
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from tests.support.budget_leases import once_returned
from tests.support.databases import postgres_database, require_postgres, sqlite_database
from tests.support.gateway_processes import refused_within_a_second
from tests.support.redis import REDIS_URL, require_redis
from tests.support.servers import serve_in_thread
from tests.upstreams.openai_fake import OpenAIScript, openai_fake_app

BIZGRAPH = str(Path(sys.executable).parent / "bizgraph")
ADMIN_TOKEN = "processes-owner-token-" + "p" * 30
SINCE = datetime(2025, 1, 1, tzinfo=UTC)
HI = [{"role": "user", "content": "hi"}]
CHARGE = Decimal("0.0000078")  # gpt-4o-mini, 12 in / 7 out, 30% margin (as tests/api)


@dataclass
class Cluster:
    urls: list[str]
    processes: list[subprocess.Popen[bytes]]
    container: Container
    upstream: OpenAIScript

    async def client_with_key(self, **key: object) -> tuple[str, str, str]:
        client, _ = await self.container.clients().create(
            NewClient("Processes", PercentageMargin(Decimal(30)), plan_effective_from=SINCE)
        )
        issued = await self.container.keys().issue(NewKey(client.id, **key))  # type: ignore[arg-type]
        return client.id, issued.key.id, issued.secret

    async def budget(self, client_id: str) -> BudgetStatus:
        found = await self.container.budgets().of_client(client_id)
        assert found is not None
        return found

    async def returned(self, client_id: str) -> BudgetStatus:
        """The budget once the processes gave their idle leases back (2 s unused)."""
        return await once_returned(lambda: self.container.budgets().of_client(client_id))

    async def settled(self, client_id: str) -> Decimal:
        async with self.container.uow()() as uow:
            now = datetime.now(UTC)
            records = await uow.usage.for_client(client_id, SINCE, now + timedelta(days=1))
        return sum((r.charge.amount for r in records), Decimal(0))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(database_url: str, upstream_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BIZGRAPH_", "OPENAI_"))}
    return env | {
        "BIZGRAPH_DATABASE_URL": database_url,
        "BIZGRAPH_DATA_DIR": str(data_dir),
        "BIZGRAPH_SECRET_KEY": "processes-server-secret-" + "s" * 30,
        "BIZGRAPH_ADMIN_TOKEN": ADMIN_TOKEN,
        "BIZGRAPH_REDIS_URL": REDIS_URL,
        "OPENAI_API_KEY": OpenAIScript().api_key,
        "OPENAI_BASE_URL": upstream_url + "/v1",
    }


def _start(env: dict[str, str], log: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = _free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [BIZGRAPH, "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                return url, process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(log.read_text())


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[OpenAIScript, str]]:
    script = OpenAIScript()
    with serve_in_thread(openai_fake_app(script)) as url:
        yield script, url


@pytest_asyncio.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
async def cluster(
    request: pytest.FixtureRequest, upstream: tuple[OpenAIScript, str], tmp_path: Path
) -> AsyncIterator[Cluster]:
    script, upstream_url = upstream
    script.__init__()  # type: ignore[misc]
    await require_redis()
    if request.param == "postgres":
        await require_postgres()
        database, count = postgres_database(), 2
    else:
        database, count = sqlite_database(tmp_path), 1
    async with database as url:
        env = _env(url, upstream_url, tmp_path / "data")
        container = make_container(load_settings(env))
        models, prices = default_catalog()
        await container.catalog().seed(models, prices)
        started = [_start(env, tmp_path / "serve.log") for _ in range(count)]
        try:
            yield Cluster([u for u, _ in started], [p for _, p in started], container, script)
        finally:
            for _, process in started:
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=20)
            await close_container(container)


async def _fire(cluster: Cluster, secret: str, count: int) -> list[httpx.Response]:
    """`count` concurrent calls, spread over the processes in turn."""
    limits = httpx.Limits(max_connections=count)
    headers = {"authorization": f"Bearer {secret}"}
    body = {"model": "openai/gpt-4o-mini", "messages": HI, "max_tokens": 10}
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        calls = [
            http.post(
                cluster.urls[i % len(cluster.urls)] + "/v1/chat/completions",
                json=body,
                headers=headers,
            )
            for i in range(count)
        ]
        return await asyncio.gather(*calls)


async def test_a_hard_budget_holds_for_100_concurrent_calls_across_processes(
    cluster: Cluster,
) -> None:
    client_id, _, secret = await cluster.client_with_key()
    limit = Decimal("0.0001")
    await cluster.container.budgets().set_for_client(client_id, BudgetInput(limit))
    cluster.upstream.first_byte_delay = 0.05

    responses = await _fire(cluster, secret, 100)

    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert ok
    assert refused
    assert all(r.status_code == 429 for r in refused), [(r.status_code, r.text) for r in refused]
    assert {r.json()["error"]["code"] for r in refused} == {"insufficient_quota"}
    spent = await cluster.settled(client_id)
    assert spent == len(ok) * CHARGE
    assert spent <= limit
    after = await cluster.returned(client_id)
    assert (after.spent, after.reserved) == (spent, 0)


async def test_revocation_and_rate_limits_hold_across_processes(cluster: Cluster) -> None:
    _, key_id, secret = await cluster.client_with_key(rpm_limit=4)
    first, *others = cluster.urls

    responses = [(await _fire(cluster, secret, 1))[0] for _ in range(6)]
    assert [r.status_code for r in responses].count(200) == 4  # one limit for all processes

    mutation = "mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }"
    async with httpx.AsyncClient(timeout=10) as http:
        revoked = await http.post(
            first + "/graphql",
            json={"query": mutation, "variables": {"id": key_id}},
            headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        confirmed = time.monotonic()
        assert revoked.json()["data"]["revokeApiKey"]["__typename"] == "RevokeApiKeySuccess"
        after = await http.post(
            first + "/v1/chat/completions",
            json={"model": "openai/gpt-4o-mini", "messages": HI},
            headers={"authorization": f"Bearer {secret}"},
        )
        assert after.status_code == 401  # the revoking process: the very next request
        for other in others:  # still rate-limited (429) until it sees the revocation
            await refused_within_a_second(http, other, secret, confirmed, 401, (200, 429))


async def test_a_killed_process_leaves_holds_that_recovery_sweeps(cluster: Cluster) -> None:
    client_id, _, secret = await cluster.client_with_key()
    await cluster.container.budgets().set_for_client(client_id, BudgetInput(Decimal("1")))
    cluster.upstream.first_byte_delay = 30  # calls hang at the provider

    calls = asyncio.ensure_future(_fire(cluster, secret, 6))
    for _ in range(100):
        if (await cluster.budget(client_id)).reserved > 0:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # let every call reach the provider
    for process in cluster.processes:  # kill -9: no shutdown, no settlement
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    await asyncio.gather(calls, return_exceptions=True)
    stuck = await cluster.budget(client_id)
    assert stuck.reserved > 0  # the dead process never settled

    # What the sweeper of any live process does once these calls are older than any call
    # can run (BIZGRAPH_TIMEOUT_TOTAL + drain), and once the dead processes' leases ran out
    # (BIZGRAPH_LEASE_SECONDS): their calls settled out of their budget leases, the rest back.
    now = datetime.now(UTC)
    swept = await cluster.container.metering().recover(
        now + timedelta(seconds=1), live_at=now + timedelta(seconds=16)
    )

    assert swept >= 1
    after = await cluster.budget(client_id)
    assert after.reserved == 0
    assert after.spent == await cluster.settled(client_id)
