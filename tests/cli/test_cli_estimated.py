"""`bizgraph clients estimated`: the calls an operator reconciles (here, one left open by a
process that died, settled by recovery), on SQLite. Set up in-process (fast); the command
itself runs as the operator types it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from adapters.persistence.migrate import upgrade
from api.container import close_container, make_container
from api.container.database import default_catalog
from api.settings import load_settings
from domain.billing.plans import PercentageMargin
from domain.metering.request_bounds import text_bound
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from tests.cli.test_cli import environment, run


async def crashed_call(env: dict[str, str]) -> tuple[str, str]:
    """A client with one call journaled by a process that died before settling it, then
    settled by another process's recovery."""
    settings = load_settings(env)
    await upgrade(settings.database_url)
    dead = make_container(settings)
    try:
        await dead.catalog().seed(*default_catalog())
        plan = PercentageMargin(Decimal(30))
        client, _ = await dead.clients().create(NewClient("Acme", plan))
        secret = (await dead.keys().issue(NewKey(client.id))).secret
        metering = dead.metering()
        grant = await metering.authorize(await metering.authenticate(secret), "demo/chat", "req_x")
        await metering.hold_and_journal(grant, text_bound(400, 50))
        metering.checkpoint(grant.request_id, 80)
        for _ in range(500):  # the deferred checkpoint commits with the next batch
            async with dead.reads()() as uow:
                [row] = await uow.journal.unsettled(grant.started_at + timedelta(days=1))
            if row.output_chars == 80:
                break
            await asyncio.sleep(0.02)
    finally:
        await close_container(dead)
    live = make_container(settings)
    try:
        now = live.clock().now()
        await live.metering().recover(now - timedelta(minutes=12), live_at=now)  # no lease
    finally:
        await close_container(live)
    return client.id, grant.request_id


def test_estimated_calls_from_the_command_line(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    client_id, request_id = asyncio.run(crashed_call(env))

    listed = run(env, "clients", "estimated", client_id)
    unknown = run(env, "clients", "estimated", "no-such-client")

    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("1 estimated calls")
    assert f"{request_id}#0  demo/chat  failed  in 100 out 20  charge " in listed.stdout
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error:")
    assert "Traceback" not in unknown.stderr


async def _record_id(env: dict[str, str], client_id: str) -> tuple[str, str]:
    container = make_container(load_settings(env))
    try:
        [call] = await container.reports().estimated(client_id)
        return call.id, call.started_at.date().isoformat()
    finally:
        await close_container(container)


def test_a_crashed_call_is_settled_from_the_command_line(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    client_id, _ = asyncio.run(crashed_call(env))
    record_id, day = asyncio.run(_record_id(env, client_id))
    settle = ("estimates", "settle", record_id, "--input", "100", "--output", "90000")

    listed = run(env, "estimates", "list", "--from", day, "--to", day)
    settled = run(env, *settle, "--reason", "provider hour report", "--bill-shortfall")
    again = run(env, *settle, "--reason", "twice")
    negative = run(
        env, "estimates", "settle", record_id, "--input", "-1", "--output", "1", "--reason", "typo"
    )
    after = run(env, "estimates", "list", "--from", day, "--to", day)

    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith(f"{record_id}  ")
    assert "Acme  demo/chat  estimated 100 in" in listed.stdout
    assert settled.returncode == 0, settled.stderr
    assert settled.stdout.startswith("billed ")
    assert again.returncode == 1
    assert "settled already" in again.stderr
    assert negative.returncode == 1
    assert negative.stderr.startswith("error:")
    assert "Traceback" not in negative.stderr + again.stderr
    assert "settled " in after.stdout
    assert "by command line: billed" in after.stdout
    assert "provider hour report" in after.stdout
