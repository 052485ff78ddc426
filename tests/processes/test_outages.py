"""Faults of the real services under real `bizgraph serve` processes: PostgreSQL restarted
mid-load, Redis stopped mid-load, the disk full under SQLite.

Each test breaks a PRIVATE server or filesystem of its own (tests/support/private_services.py),
never the machine's shared PostgreSQL and Redis. What must hold (docs/operations-faults.md):
calls during an outage succeed or fail fast with a 503 in OpenAI's error format; no usage
record is lost or doubled (every 200 has exactly one, every attempt that reached the provider
is billed once); nothing is half-written; the processes serve again without a restart.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.call_log.sqlite import SqliteCallLog
from api.app import create_app
from api.container import Container, close_container, make_container
from api.container.database import default_catalog
from api.settings import load_settings
from domain.billing.plans import PercentageMargin
from domain.budgets.limits import BudgetStatus
from domain.metering.usage import CallStatus, UsageRecord
from domain.usecases.budgets import BudgetInput
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from tests.support.budget_leases import once_returned
from tests.support.databases import postgres_database, require_postgres, sqlite_database
from tests.support.gateway_processes import (
    ADMIN_TOKEN,
    gateway_env,
    ledger_verify,
    start_gateways,
    stop_gateway,
)
from tests.support.private_services import private_postgres, private_redis
from tests.support.servers import serve_in_thread
from tests.upstreams.openai_fake import OpenAIScript, openai_fake_app

SINCE = datetime(2025, 1, 1, tzinfo=UTC)
BODY = {
    "model": "openai/gpt-4o-mini",
    "messages": [{"role": "user", "content": "hi"}],
    "max_tokens": 10,
}
CHARGE = Decimal("0.0000078")  # gpt-4o-mini, 12 in / 7 out, 30% margin (as tests/api)
OUTAGE_CODES = {"database_unavailable", "budget_unavailable"}


@dataclass
class Answer:
    url: str
    phase: str  # "before", "outage" or "after": when the call was sent
    status: int
    request_id: str
    body: dict[str, object]
    retry_after: str | None = None


@dataclass
class Load:
    """Workers calling the gateways in turn until stopped; every answer is kept."""

    urls: list[str]
    secret: str
    phase: str = "before"
    answers: list[Answer] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # transport errors: never expected
    stopping: bool = False

    async def _worker(self, http: httpx.AsyncClient, number: int) -> None:
        turn = number
        while not self.stopping:
            url, phase = self.urls[turn % len(self.urls)], self.phase
            turn += 1
            try:
                response = await http.post(
                    url + "/v1/chat/completions",
                    json=BODY,
                    headers={"authorization": f"Bearer {self.secret}"},
                )
            except httpx.HTTPError as exc:
                self.failures.append(f"{phase} {url}: {type(exc).__name__}: {exc}")
                await asyncio.sleep(0.05)
                continue
            rid = response.headers.get("x-request-id", "")
            self.answers.append(
                Answer(
                    url,
                    phase,
                    response.status_code,
                    rid,
                    response.json(),
                    response.headers.get("retry-after"),
                )
            )
            if response.status_code != 200:
                await asyncio.sleep(0.02)  # an outage answers at once: do not spin

    def count(self, phase: str, status: int, url: str | None = None) -> int:
        return sum(
            1
            for a in self.answers
            if a.phase == phase and a.status == status and url in (None, a.url)
        )


@asynccontextmanager
async def running(load: Load, workers: int) -> AsyncIterator[Load]:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=workers)) as h:
        tasks = [asyncio.create_task(load._worker(h, n)) for n in range(workers)]
        try:
            yield load
        finally:
            load.stopping = True
            await asyncio.gather(*tasks)


async def until(
    condition: Callable[[], bool | Awaitable[bool]], what: str, seconds: float = 60.0
) -> None:
    """Poll `condition()` (sync or async) until true; fail after a generous bound."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        found = condition()
        if not isinstance(found, bool):
            found = await found
        if found:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def fake_openai(first_byte_delay: float = 0.0) -> Iterator[tuple[OpenAIScript, str]]:
    script = OpenAIScript(first_byte_delay=first_byte_delay)
    with serve_in_thread(openai_fake_app(script)) as url:
        yield script, url


async def seeded(env: dict[str, str]) -> Container:
    container = make_container(load_settings(env))
    models, prices = default_catalog()
    await container.catalog().seed(models, prices)
    return container


async def client_with_key(
    container: Container, budget: Decimal | None = None, **key: object
) -> tuple[str, str]:
    client, _ = await container.clients().create(
        NewClient("Faults", PercentageMargin(Decimal(30)), plan_effective_from=SINCE)
    )
    if budget is not None:
        await container.budgets().set_for_client(client.id, BudgetInput(budget))
    issued = await container.keys().issue(NewKey(client.id, **key))  # type: ignore[arg-type]
    return client.id, issued.secret


async def records_of(container: Container, client_id: str) -> list[UsageRecord]:
    async with container.uow()() as uow:
        return list(await uow.usage.for_client(client_id, SINCE, datetime.now(UTC) + timedelta(1)))


async def journal_open(container: Container) -> int:
    async with container.uow()() as uow:
        return len(await uow.journal.unsettled(datetime.now(UTC) + timedelta(days=1)))


def assert_outage_answers(load: Load) -> None:
    """Only 200s and 503s in OpenAI's error format saying the database is unavailable."""
    assert not load.failures, load.failures[:5]
    others = [a for a in load.answers if a.status not in (200, 503)]
    assert not others, [(a.status, a.body) for a in others[:5]]
    for answer in load.answers:
        if answer.status == 503:
            error = answer.body["error"]
            assert isinstance(error, dict)
            assert set(error) == {"message", "type", "param", "code"}
            assert error["type"] == "server_error"
            assert error["code"] in OUTAGE_CODES, error
            assert answer.retry_after == "2"


async def assert_billed_once(
    container: Container, client_id: str, load: Load, script: OpenAIScript
) -> None:
    """Every 200 has exactly one usage record; every attempt that reached the provider is
    billed once; the budget's spend is the sum of the charges and nothing stays held."""
    records = await records_of(container, client_id)
    by_request: dict[str, list[UsageRecord]] = {}
    for record in records:
        by_request.setdefault(record.request_id, []).append(record)
    ok = [a.request_id for a in load.answers if a.status == 200]
    assert len(set(ok)) == len(ok)
    for rid in ok:
        found = by_request.get(rid, [])
        assert [r.status for r in found] == [CallStatus.SUCCEEDED], (rid, found)
    reached = len([r for r in script.requests if r.path == "/v1/chat/completions"])
    succeeded = [r for r in records if r.status is CallStatus.SUCCEEDED]
    assert len(succeeded) == reached == len(ok)
    assert all(r.charge.amount == CHARGE for r in succeeded)
    status = await leases_returned(container, client_id)
    assert status.reserved == 0
    assert status.spent == sum((r.charge.amount for r in records), Decimal(0))


async def leases_returned(container: Container, client_id: str) -> BudgetStatus:
    """The client's budget once the gateways gave their idle budget leases back (2 s)."""
    return await once_returned(lambda: container.budgets().of_client(client_id))


@pytest.mark.postgres
async def test_postgres_restarted_mid_load_under_two_gateways(tmp_path: Path) -> None:
    with private_postgres() as pg, fake_openai(first_byte_delay=0.05) as (script, upstream):
        async with postgres_database(admin_url=pg.url) as url:
            env = gateway_env(url, upstream, tmp_path / "data")
            container = await seeded(env)
            client_id, secret = await client_with_key(container, budget=Decimal(10))
            started = start_gateways(env, tmp_path / "serve.log", 2)
            urls = [u for u, _ in started]
            try:
                async with running(Load(urls, secret), workers=6) as load:
                    await until(lambda: load.count("before", 200) >= 20, "calls before")
                    load.phase = "outage"
                    await asyncio.to_thread(pg.stop)  # a fast shutdown: sessions are cut
                    await until(lambda: load.count("outage", 503) >= 10, "503s in the outage")
                    management = await graphql(urls[0], "{ alerts { id } }")
                    outage = await until_ready(urls[0], ready=False)
                    await asyncio.to_thread(pg.start)
                    load.phase = "after"
                    for served in urls:  # both serve again, without a restart
                        await until(lambda u=served: load.count("after", 200, u) >= 10, served)
                        await until_ready(served, ready=True)
                checks = outage["checks"]
                assert checks["database"]["ok"] is False
                assert "the database does not answer" in checks["database"]["problem"]
                assert "postgres" not in str(outage)  # no URL, user or driver text
                assert_outage_answers(load)
                assert all(p.poll() is None for _, p in started)
                # GraphQL's own format: an error that says what happened, not "Unexpected error."
                assert management.status_code == 200
                assert management.json()["data"] is None
                [error] = management.json()["errors"]
                assert error["message"] == "the database is unavailable; try again shortly"

                await until(lambda: _journal_empty(container), "an empty journal", 30)
                await assert_billed_once(container, client_id, load, script)
                verified = ledger_verify(env)
                assert verified.returncode == 0, verified.stdout + verified.stderr
            finally:
                for _, process in started:
                    stop_gateway(process)
                await close_container(container)


async def until_ready(url: str, *, ready: bool, seconds: float = 30) -> dict[str, Any]:
    """Poll /readyz until it answers 200 (ready) or 503 (not ready); its body."""
    status = 200 if ready else 503
    async with httpx.AsyncClient(timeout=10) as http:
        for _ in range(int(seconds * 10)):
            answer = await http.get(url + "/readyz")
            if answer.status_code == status:
                body: dict[str, Any] = answer.json()
                assert body["status"] == ("ready" if ready else "not_ready")
                return body
            await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz of {url} did not answer {status} within {seconds}s")


async def graphql(url: str, query: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(
            url + "/graphql",
            json={"query": query},
            headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        )


async def _journal_empty(container: Container) -> bool:
    return await journal_open(container) == 0


async def _sequential(urls: list[str], secret: str, count: int) -> list[httpx.Response]:
    """`count` calls one after the other, over the processes in turn."""
    async with httpx.AsyncClient(timeout=30) as http:
        return [
            await http.post(
                urls[i % len(urls)] + "/v1/chat/completions",
                json=BODY,
                headers={"authorization": f"Bearer {secret}"},
            )
            for i in range(count)
        ]


def _ok_by_url(responses: list[httpx.Response], urls: list[str]) -> list[int]:
    return [
        sum(1 for r in responses if r.status_code == 200 and str(r.url).startswith(u)) for u in urls
    ]


@pytest.mark.postgres
async def test_redis_stopped_mid_load_rate_limits_fall_back_and_budgets_hold(
    tmp_path: Path,
) -> None:
    rpm = 4
    await require_postgres()
    with private_redis() as redis, fake_openai() as (_, upstream):
        async with postgres_database() as url:
            env = gateway_env(url, upstream, tmp_path / "data", redis.url)
            container = await seeded(env)
            _, limited = await client_with_key(container, rpm_limit=rpm)
            _, limited_meanwhile = await client_with_key(container, rpm_limit=rpm)
            _, limited_after = await client_with_key(container, rpm_limit=rpm)
            budget = Decimal("0.0001")
            budgeted_id, budgeted = await client_with_key(container, budget=budget)
            started = start_gateways(env, tmp_path / "serve.log", 2)
            urls = [u for u, _ in started]
            try:
                shared = await _sequential(urls, limited, 2 * rpm + 2)
                assert sum(_ok_by_url(shared, urls)) == rpm  # one limit for both processes

                await until_ready(urls[0], ready=True)
                await asyncio.to_thread(redis.stop)
                down = await until_ready(urls[0], ready=False)
                assert down["checks"]["redis"]["problem"].startswith("Redis does not answer")
                assert down["checks"]["database"]["ok"] is True
                alone = await _sequential(urls, limited_meanwhile, 2 * rpm + 2)
                assert {r.status_code for r in alone} <= {200, 429}
                assert _ok_by_url(alone, urls) == [rpm, rpm]  # each process limits alone
                refused = [r.json()["error"]["code"] for r in alone if r.status_code == 429]
                assert refused == ["rate_limit_exceeded"] * 2
                calls = Load(urls, budgeted)
                async with running(calls, workers=8):
                    await until(lambda: calls.count("before", 429) >= 8, "budget refusals")
                assert not calls.failures, calls.failures[:5]
                assert {a.status for a in calls.answers} == {200, 429}
                assert {
                    str(a.body["error"]["code"])  # type: ignore[index]
                    for a in calls.answers
                    if a.status == 429
                } == {"insufficient_quota"}
                records = await records_of(container, budgeted_id)
                spent = sum((r.charge.amount for r in records), Decimal(0))
                assert spent == calls.count("before", 200) * CHARGE <= budget
                status = await leases_returned(container, budgeted_id)
                assert (status.spent, status.reserved) == (spent, 0)

                await asyncio.to_thread(redis.start)
                await until_ready(urls[1], ready=True)
                back = await _sequential(urls, limited_after, 2 * rpm + 2)
                assert sum(_ok_by_url(back, urls)) == rpm  # global again, no restart
                log = (tmp_path / "serve.log").read_text()
                assert "shared rate limiter unavailable; limiting per process" in log
            finally:
                for _, process in started:
                    stop_gateway(process)
                await close_container(container)


@contextmanager
def small_filesystem(path: Path, size: str = "16m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `path` (root only). A real full filesystem, so SQLite
    fails with its own SQLITE_FULL ("database or disk is full") exactly as on a full disk.
    Without the right to mount (CAP_SYS_ADMIN) the test is skipped loudly; the same error path
    is still covered by test_a_full_sqlite_database_answers_503_without_a_mount."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"cannot mount a small tmpfs ({mounted.stderr.strip()}): disk-full test SKIPPED"
        )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def fill(directory: Path) -> Path:
    """Write one file until the filesystem has no space left; return it (delete to recover)."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        with suppress(OSError):  # ENOSPC: the filesystem is full
            while True:
                out.write(chunk)
        with suppress(OSError):  # the last partial blocks
            while True:
                out.write(b"\0" * 512)
    return filler


async def test_a_full_disk_under_sqlite_answers_503_and_recovers(tmp_path: Path) -> None:
    with (
        small_filesystem(tmp_path / "disk") as disk,
        fake_openai(first_byte_delay=0.3) as (
            script,
            upstream,
        ),
    ):
        async with sqlite_database(disk) as url:
            env = gateway_env(url, upstream, tmp_path / "data")
            container = await seeded(env)
            client_id, secret = await client_with_key(container, budget=Decimal(10))
            await close_container(container)  # the test reads the database once it is back
            [(gateway, process)] = start_gateways(env, tmp_path / "serve.log", 1)
            try:
                async with running(Load([gateway], secret), workers=4) as load:
                    await until(lambda: load.count("before", 200) >= 8, "calls before")
                    load.phase = "outage"
                    filler = await asyncio.to_thread(fill, disk)  # calls at the provider now
                    await until(lambda: load.count("outage", 503) >= 8, "503s on a full disk")
                    filler.unlink()
                    load.phase = "after"
                    await until(lambda: load.count("after", 200) >= 8, "calls once space is back")
                assert_outage_answers(load)
                messages = {str(a.body["error"]) for a in load.answers if a.status == 503}
                assert any("out of disk space" in m for m in messages), messages
                log = (tmp_path / "serve.log").read_text()
                # calls at the provider when the disk filled: answered, settled once space returned
                assert "could not settle request" in log
                assert process.poll() is None

                container = make_container(load_settings(env))
                try:
                    await until(lambda: _journal_empty(container), "an empty journal", 30)
                    await assert_billed_once(container, client_id, load, script)
                finally:
                    await close_container(container)
                verified = ledger_verify(env)
                assert verified.returncode == 0, verified.stdout + verified.stderr
            finally:
                stop_gateway(process)


@dataclass
class PageLimit:
    """SQLite's own size limit, `PRAGMA max_page_count`, set on every connection the gateway's
    pool hands out: at 1 the database cannot grow by a page and SQLite answers SQLITE_FULL
    ("database or disk is full"), the very error of a full disk."""

    full: bool = False

    def install_writer(self, call_log: object) -> None:
        """The same limit on the hot path's writer thread's own connection, before each batch."""
        assert isinstance(call_log, SqliteCallLog)

        def limit(conn: sqlite3.Connection) -> None:
            conn.execute(f"PRAGMA max_page_count = {1 if self.full else 2**31 - 2}")

        call_log.before_batch = limit

    def install(self, engine: AsyncEngine) -> None:
        @event.listens_for(engine.sync_engine, "checkout")
        def _limit(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
            cursor = dbapi_connection.cursor()
            try:  # 1 means "no more than now"; a huge limit means no limit
                cursor.execute(f"PRAGMA max_page_count = {1 if self.full else 2**31 - 2}")
            finally:
                cursor.close()


async def test_a_full_sqlite_database_answers_503_without_a_mount(tmp_path: Path) -> None:
    """The same fault where no small filesystem can be mounted (CI containers without
    CAP_SYS_ADMIN): the gateway runs in this process so the test can set SQLite's own size
    limit on its connections (a test-only engine hook, not a setting of the product)."""
    limit = PageLimit()
    with fake_openai(first_byte_delay=0.2) as (script, upstream):
        async with sqlite_database(tmp_path) as url:
            env = gateway_env(url, upstream, tmp_path / "data")
            admin = await seeded(env)
            client_id, secret = await client_with_key(admin, budget=Decimal(10))
            container = make_container(load_settings(env))
            limit.install(container.engine())
            limit.install_writer(container.call_log())
            try:
                with serve_in_thread(create_app(container.settings(), container)) as gateway:
                    async with running(Load([gateway], secret), workers=4) as load:
                        await until(lambda: load.count("before", 200) >= 8, "calls before")
                        limit.full, load.phase = True, "outage"
                        await until(lambda: load.count("outage", 503) >= 8, "503s when full")
                        limit.full, load.phase = False, "after"
                        await until(lambda: load.count("after", 200) >= 8, "calls after")
                assert_outage_answers(load)
                messages = {str(a.body["error"]) for a in load.answers if a.status == 503}
                assert any("out of disk space" in m for m in messages), messages
                await until(lambda: _journal_empty(admin), "an empty journal", 30)
                await assert_billed_once(admin, client_id, load, script)
            finally:
                await close_container(admin)
