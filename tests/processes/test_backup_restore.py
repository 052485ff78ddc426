"""`bizgraph backup` while a real `bizgraph serve` process meters calls, then `bizgraph restore`
elsewhere (a new SQLite file, a new PostgreSQL database): `ledger verify` passes there, every
usage record in the backup equals the source's and has its ledger entry, and calls answered after
the backup are not in it (docs/operations.md, "Backups and restore")."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from api.container import Container, close_container, make_container
from api.container.database import default_catalog
from api.settings import load_settings
from domain.billing.plans import PercentageMargin
from domain.metering.usage import UsageRecord
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from tests.support.databases import postgres_database, require_postgres, sqlite_database
from tests.support.gateway_processes import (
    BIZGRAPH,
    gateway_env,
    ledger_verify,
    start_gateways,
    stop_gateway,
)
from tests.support.servers import serve_in_thread
from tests.upstreams.openai_fake import OpenAIScript, openai_fake_app

SINCE = datetime(2025, 1, 1, tzinfo=UTC)
BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
AFTER_BACKUP = 20  # calls answered after the backup ended: none may be in it
# A usage record without its ledger entry (or the reverse) would be a torn write in the copy.
UNMATCHED = """
SELECT count(*) FROM usage_records u
LEFT JOIN ledger_entries l ON l.client_id = u.client_id AND l.kind = 'usage_charge'
    AND l.reference = u.request_id || '#' || CAST(u.attempt AS VARCHAR(10))
WHERE l.id IS NULL
"""
ORPHAN_ENTRIES = """
SELECT count(*) FROM ledger_entries l WHERE l.kind = 'usage_charge' AND NOT EXISTS (
    SELECT 1 FROM usage_records u WHERE u.client_id = l.client_id
        AND l.reference = u.request_id || '#' || CAST(u.attempt AS VARCHAR(10)))
"""


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_in_thread(openai_fake_app(OpenAIScript())) as url:
        yield url


def databases(backend: str, tmp_path: Path) -> tuple[AbstractAsyncContextManager[str], ...]:
    """(source, target): the target is created empty and never migrated."""
    if backend == "sqlite":
        return sqlite_database(tmp_path), sqlite_database(tmp_path, migrate=False)
    return postgres_database(), postgres_database(migrate=False)


async def records(container: Container, client_id: str) -> dict[str, UsageRecord]:
    async with container.uow()() as uow:
        found = await uow.usage.for_client(client_id, SINCE, datetime.now(UTC) + timedelta(1))
    return {r.id: r for r in found}


async def count(container: Container, sql: str) -> int:
    async with container.engine().connect() as connection:
        return int((await connection.execute(text(sql))).scalar_one())


async def bizgraph(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Runs the CLI without blocking this loop (the load keeps calling meanwhile)."""
    process = await asyncio.create_subprocess_exec(
        BIZGRAPH, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


class Load:
    """Workers calling the gateway until stopped; `answered` counts 200s, `after_backup` the
    200s to calls sent once the backup had ended."""

    def __init__(self, url: str, secret: str) -> None:
        self.url, self.secret = url, secret
        self.answered = self.after_backup = 0
        self.backup_done = self.stopping = False
        self.errors: list[str] = []

    async def worker(self, http: httpx.AsyncClient) -> None:
        while not self.stopping:
            sent_after = self.backup_done
            response = await http.post(
                self.url + "/v1/chat/completions",
                json=BODY,
                headers={"authorization": f"Bearer {self.secret}"},
            )
            if response.status_code != 200:
                self.errors.append(f"{response.status_code} {response.text[:200]}")
                continue
            self.answered += 1
            self.after_backup += sent_after

    async def until(self, condition: str, predicate: Callable[[], bool]) -> None:
        for _ in range(1200):
            if predicate():
                return
            assert not self.errors, self.errors[:3]
            await asyncio.sleep(0.05)
        raise AssertionError(f"load never reached: {condition}")


@dataclass
class Running:
    client_id: str
    secret: str
    source: dict[str, str]  # environments of the CLI for each database
    target: dict[str, str]
    url: str
    gateway: subprocess.Popen[bytes]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and (shutil.which("pg_dump") is None):
        pytest.skip("pg_dump/pg_restore not on PATH: PostgreSQL backup test SKIPPED")
    return str(request.param)


@pytest.fixture
async def running(backend: str, upstream: str, tmp_path: Path) -> AsyncIterator[Running]:
    """The source database served by a real gateway process (stopped on exit) and an empty
    target."""
    if backend == "postgres":
        await require_postgres()
    source_db, target_db = databases(backend, tmp_path)
    async with source_db as source_url, target_db as target_url:
        source = gateway_env(source_url, upstream, tmp_path / "data")
        target = gateway_env(target_url, upstream, tmp_path / "data")
        container = make_container(load_settings(source))
        try:
            await container.catalog().seed(*default_catalog())
            client, _ = await container.clients().create(
                NewClient("Backups", PercentageMargin(Decimal(30)), plan_effective_from=SINCE)
            )
            issued = await container.keys().issue(NewKey(client.id))
        finally:
            await close_container(container)
        [(url, process)] = start_gateways(source, tmp_path / "serve.log")
        try:
            yield Running(client.id, issued.secret, source, target, url, process)
        finally:
            stop_gateway(process)


async def test_a_backup_taken_while_metering_restores_complete_and_verified(
    running: Running, tmp_path: Path
) -> None:
    source, target = running.source, running.target
    backup_file = tmp_path / "backups" / "bizgraph.backup"
    backup_file.parent.mkdir()
    load = Load(running.url, running.secret)
    async with httpx.AsyncClient(timeout=30) as http:
        workers = [asyncio.create_task(load.worker(http)) for _ in range(4)]
        try:
            await load.until("first calls", lambda: load.answered >= 30)
            status, output = await bizgraph(source, "backup", str(backup_file))
            load.backup_done = True
            calls_during_backup = load.answered
            await load.until("calls after the backup", lambda: load.after_backup >= AFTER_BACKUP)
        finally:
            load.stopping = True
            await asyncio.gather(*workers, return_exceptions=True)
    stop_gateway(running.gateway)  # every answered call is written by now
    assert status == 0, output
    assert f"backup written to {backup_file}" in output
    assert not list(backup_file.parent.glob(".*partial")), "the temporary file is left behind"

    status, output = await bizgraph(target, "restore", str(backup_file))
    assert status == 0, output
    assert "restored" in output
    assert "migrate" not in output
    verified = ledger_verify(target)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    source_container = make_container(load_settings(source))
    restored_container = make_container(load_settings(target))
    try:
        source_records = await records(source_container, running.client_id)
        restored = await records(restored_container, running.client_id)
        assert count_line(output, "usage records") == len(restored)
        assert 0 < len(restored) <= len(source_records) - AFTER_BACKUP
        assert calls_during_backup >= 30
        for record_id, record in restored.items():
            assert source_records.get(record_id) == record  # the same record, field by field
        assert await count(restored_container, UNMATCHED) == 0
        assert await count(restored_container, ORPHAN_ENTRIES) == 0
    finally:
        await close_container(source_container)
        await close_container(restored_container)


def count_line(output: str, what: str) -> int:
    """The number printed before `what` ("..., 42 usage records, ...")."""
    for part in output.replace("\n", ",").split(","):
        if part.strip().endswith(what):
            return int(part.split()[0])
    raise AssertionError(f"no {what!r} in {output!r}")
