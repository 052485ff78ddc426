"""A `bizgraph serve` process killed with SIGKILL mid-stream, after some output reached the
client: a live process (a second one on PostgreSQL; on SQLite, the same one restarted) settles
the call within the lease time, billed as an estimate whose output is what had been relayed,
and the budget hold is released. Short leases make it quick; nothing here measures time
beyond "eventually, within a generous bound"."""

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
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import orjson
import pytest
import pytest_asyncio
from sqlalchemy import text
from starlette.types import Receive, Scope, Send

from api.container import Container, close_container, make_container
from api.container.database import default_catalog
from api.settings import load_settings
from domain.billing.plans import PercentageMargin
from domain.metering.estimates import tokens_in
from domain.metering.usage import CallStatus, UsageRecord, UsageSource
from domain.usecases.budgets import BudgetInput
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from tests.support.databases import postgres_database, require_postgres, sqlite_database
from tests.support.servers import serve_in_thread
from tests.upstreams.asgi import pause, read_body

BIZGRAPH = str(Path(sys.executable).parent / "bizgraph")
PROVIDER_KEY = "sk-crash-upstream"
SINCE = datetime(2025, 1, 1, tzinfo=UTC)
PIECE = "0123456789"  # each upstream chunk's content


async def endless_stream(scope: Scope, receive: Receive, send: Send) -> None:
    """An OpenAI-style upstream whose streams send a chunk every 50 ms until the client
    goes away, never reaching a usage report (the process serving it will be killed)."""
    if scope["type"] != "http":
        return
    body = orjson.loads(await read_body(receive))
    headers = [(b"content-type", b"text/event-stream; charset=utf-8")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for _ in range(1200):  # at most a minute
        delta = {"content": PIECE}
        choice = {"index": 0, "delta": delta, "finish_reason": None}
        event = {"id": "c", "object": "chat.completion.chunk", "model": body["model"]}
        data = b"data: " + orjson.dumps({**event, "choices": [choice]}) + b"\n\n"
        await send({"type": "http.response.body", "body": data, "more_body": True})
        if await pause(receive, 0.05):
            return
    await send({"type": "http.response.body", "body": b""})


@dataclass
class Servers:
    env: dict[str, str]
    log: Path
    container: Container
    running: list[subprocess.Popen[bytes]]

    def start(self, count: int = 1) -> list[str]:
        """Launch `count` processes together (startup is the slow part), then wait for each."""
        launched = []
        for _ in range(count):
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
            with self.log.open("ab") as out:
                command = [BIZGRAPH, "serve", "--port", str(port)]
                process = subprocess.Popen(command, env=self.env, stdout=out, stderr=out)
            self.running.append(process)
            launched.append(f"http://127.0.0.1:{port}")
        for url in launched:
            self._wait_healthy(url)
        return launched

    def _wait_healthy(self, url: str) -> None:
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(self.log.read_text())

    async def journal_output(self, request_id: str) -> int | None:
        async with self.container.engine().connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT output_chars FROM call_journal WHERE request_id = :rid"),
                    {"rid": request_id},
                )
            ).first()
        return None if row is None else int(row[0])

    async def prompt_chars(self, request_id: str) -> int:
        async with self.container.engine().connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT prompt_chars FROM call_journal WHERE request_id = :rid"),
                    {"rid": request_id},
                )
            ).one()
        return int(row[0])

    async def records(self, request_id: str) -> list[UsageRecord]:
        async with self.container.reads()() as uow:
            return list(await uow.usage.for_request(request_id))


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_in_thread(endless_stream, lifespan="off") as url:
        yield url


@pytest_asyncio.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
async def servers(
    request: pytest.FixtureRequest, upstream: str, tmp_path: Path
) -> AsyncIterator[Servers]:
    if request.param == "postgres":
        await require_postgres()
        database = postgres_database()
    else:
        database = sqlite_database(tmp_path)
    async with database as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BIZGRAPH_", "OPENAI_"))}
        env |= {
            "BIZGRAPH_DATABASE_URL": url,
            "BIZGRAPH_DATA_DIR": str(tmp_path / "data"),
            "BIZGRAPH_SECRET_KEY": "crash-server-secret-" + "s" * 30,
            "BIZGRAPH_LEASE_SECONDS": "3",
            "BIZGRAPH_HEARTBEAT_SECONDS": "0.5",
            "BIZGRAPH_STREAM_CHECKPOINT": "0.2",
            "OPENAI_API_KEY": PROVIDER_KEY,
            "OPENAI_BASE_URL": upstream + "/v1",
        }
        container = make_container(load_settings(env))
        models, prices = default_catalog()
        await container.catalog().seed(models, prices)
        made = Servers(env, tmp_path / "serve.log", container, [])
        try:
            yield made
        finally:
            for process in made.running:
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=20)
            await close_container(container)


async def test_a_process_killed_mid_stream_is_settled_by_a_live_one_for_what_it_relayed(
    servers: Servers, request: pytest.FixtureRequest
) -> None:
    on_postgres = "postgres" in request.node.callspec.id
    doomed, *survivor = servers.start(2 if on_postgres else 1)  # SQLite: one at a time
    client, _ = await servers.container.clients().create(
        NewClient("Crash", PercentageMargin(Decimal(30)), plan_effective_from=SINCE)
    )
    secret = (await servers.container.keys().issue(NewKey(client.id))).secret
    await servers.container.budgets().set_for_client(client.id, BudgetInput(Decimal(1)))

    received: list[int] = []
    body = {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "x" * 400}],
        "max_tokens": 1000,
        "stream": True,
    }
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream(
            "POST",
            doomed + "/v1/chat/completions",
            json=body,
            headers={"authorization": f"Bearer {secret}"},
        ) as response,
    ):
        assert response.status_code == 200
        request_id = response.headers["x-request-id"]
        lines = response.aiter_lines()
        async for line in lines:  # relayed output reaches the client and is checkpointed
            if line.startswith("data: {"):
                received.append(len(PIECE))
            checkpointed = await servers.journal_output(request_id)
            if checkpointed is not None and checkpointed >= 10 * len(PIECE):
                break
        os.kill(servers.running[0].pid, signal.SIGKILL)  # no shutdown, no settlement
        servers.running[0].wait(timeout=10)
        with pytest.raises(httpx.HTTPError):
            async for _ in lines:
                pass

    relayed = await servers.journal_output(request_id)  # frozen by the kill
    assert relayed is not None
    assert 10 * len(PIECE) <= relayed <= sum(received) + 64 * len(PIECE)  # at most a buffer more
    assert await servers.records(request_id) == []  # nobody settled it yet...
    if not survivor:
        servers.start()  # ...until a live process does: here the restarted one

    for _ in range(300):  # generous: the lease is 3 s
        if records := await servers.records(request_id):
            break
        await asyncio.sleep(0.1)
    [record] = records
    assert record.source is UsageSource.ESTIMATED
    assert record.status is CallStatus.FAILED
    assert record.usage.output_tokens == tokens_in(relayed) > 0
    assert record.usage.input_tokens == tokens_in(await servers.prompt_chars(request_id)) > 0
    assert record.charge.amount > 0
    budget = await servers.container.budgets().of_client(client.id)
    assert budget is not None
    assert (budget.spent, budget.reserved) == (record.charge.amount, 0)
