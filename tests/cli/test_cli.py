"""The `bizgraph` command as a new user runs it: migrate, create a client, issue a key, serve,
and call the demo model with the official SDK; on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import openai
import pytest
import pytest_asyncio

from tests.support.databases import postgres_database, require_postgres

BIZGRAPH = [str(Path(sys.executable).parent / "bizgraph")]  # the installed console script


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    await require_postgres()
    async with postgres_database(migrate=False) as url:
        yield url


def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BIZGRAPH_", "OPENAI_"))}
    env.update(
        BIZGRAPH_DATABASE_URL=database_url,
        BIZGRAPH_DATA_DIR=str(tmp_path / "data"),
    )
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BIZGRAPH, *args], env=env, capture_output=True, text=True, timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], str]]:
    """Starts `bizgraph serve` on a free port; returns its base URL once it answers."""
    log = (tmp_path / "serve.log").open("w")
    started: list[subprocess.Popen[str]] = []

    def start(env: dict[str, str]) -> str:
        port = free_port()
        command = [*BIZGRAPH, "serve", "--port", str(port)]
        started.append(subprocess.Popen(command, env=env, stdout=log, stderr=log))
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    return url
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError((tmp_path / "serve.log").read_text())

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=20)
    log.close()


async def stored_digests(database_url: str) -> list[tuple[str, str]]:
    query = "SELECT prefix, digest FROM api_keys"
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            return list(db.execute(query).fetchall())
    connection = await asyncpg.connect(database_url)
    try:
        return [(r["prefix"], r["digest"]) for r in await connection.fetch(query)]
    finally:
        await connection.close()


async def test_from_an_empty_database_to_a_demo_answer(
    database_url: str, tmp_path: Path, serve: Callable[[dict[str, str]], str]
) -> None:
    env = environment(database_url, tmp_path)

    before = run(env, "clients", "list")
    migrated = run(env, "migrate")
    created = run(env, "clients", "create", "--name", "Acme", "--margin", "30")
    client_id = created.stdout.split()[1]
    issued = run(env, "keys", "issue", client_id, "--name", "laptop")
    secret = issued.stdout.strip()
    url = serve(env)
    with openai.OpenAI(base_url=url + "/v1", api_key=secret, max_retries=0) as client:
        answer = client.chat.completions.create(
            model="demo/chat", messages=[{"role": "user", "content": "Hello"}]
        )
    usage = run(env, "clients", "usage", client_id)
    staff_token = run(env, "staff", "issue", "--name", "Ada", "--role", "viewer").stdout.strip()
    me = httpx.post(
        url + "/graphql",
        json={"query": "{ me { role } }"},
        headers={"authorization": f"Bearer {staff_token}"},
    )

    assert before.returncode == 1
    assert "bizgraph migrate" in before.stderr
    assert "Traceback" not in before.stderr
    assert migrated.returncode == 0, migrated.stderr
    assert created.returncode == 0, created.stderr
    assert issued.returncode == 0, issued.stderr
    assert secret.startswith("bzk_live_")
    assert "not shown again" in issued.stderr
    [(prefix, digest)] = await stored_digests(database_url)
    assert secret.startswith(prefix)
    assert secret not in digest
    assert len(digest) == 64
    assert answer.choices[0].message.content
    assert usage.returncode == 0, usage.stderr
    assert "requests                    1" in usage.stdout
    assert "revenue" in usage.stdout
    assert staff_token.startswith("bzs_")
    assert me.json()["data"]["me"]["role"] == "VIEWER"


def test_serve_migrates_first_when_asked(
    tmp_path: Path, serve: Callable[[dict[str, str]], str]
) -> None:
    """A container's start (BIZGRAPH_MIGRATE_ON_START=true, as compose.yaml sets it): the schema
    and the bundled catalog are made before serving; without it serve still refuses."""
    env = environment(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path)

    refused = run(env, "serve", "--port", str(free_port()))
    url = serve({**env, "BIZGRAPH_MIGRATE_ON_START": "true"})
    models = run(env, "models", "list")

    assert refused.returncode == 1
    assert "bizgraph migrate" in refused.stderr
    assert httpx.get(url + "/v1/models").status_code == 401  # the API is up, keys required
    assert models.returncode == 0, models.stderr
    assert "demo/chat" in models.stdout


def test_bad_input_is_a_message_and_a_non_zero_exit(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'bad.db'}", tmp_path)
    assert run(env, "migrate").returncode == 0

    no_plan = run(env, "clients", "create", "--name", "Acme")
    bad_margin = run(env, "clients", "create", "--name", "Acme", "--margin", "lots")
    float_fee = run(env, "clients", "create", "--name", "Acme", "--monthly-fee", "9.999")
    unknown_client = run(env, "keys", "issue", "no-such-client")
    bad_zone = subprocess.run(
        [*BIZGRAPH, "clients", "list"],
        capture_output=True,
        text=True,
        env={**env, "BIZGRAPH_TIMEZONE": "Mars/Olympus"},
        timeout=60,
    )

    for result in (no_plan, bad_margin, float_fee, unknown_client, bad_zone):
        assert result.returncode != 0
        assert result.stderr.startswith("error:"), result.stderr
        assert "Traceback" not in result.stderr


def test_decimals_that_cannot_be_stored_are_a_message_and_a_non_zero_exit(tmp_path: Path) -> None:
    """Parsed by the same helper as GraphQL's inputs (tested there on both backends)."""
    env = environment(f"sqlite:///{tmp_path / 'bad.db'}", tmp_path)
    assert run(env, "migrate").returncode == 0
    create = ("clients", "create", "--name", "Acme")

    huge_tax = run(env, *create, "--margin", "10", "--tax-rate", "1e999999999")
    huge_fee = run(env, *create, "--monthly-fee", "1e30")
    tiny_margin = run(env, *create, "--margin", "1e-999999999")

    for result, said in (
        (huge_tax, "too large"),
        (huge_fee, "too large"),
        (tiny_margin, "decimals"),
    ):
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith("error:"), result.stderr
        assert said in result.stderr
        assert "Traceback" not in result.stderr
