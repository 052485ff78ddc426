"""`bizgraph reconcile` over a week of fake OpenAI reports: Bizgraph's records agree to the
cent on six days and the provider billed more on one; the command prints the drift table,
raises one alert (delivered to the agency's signed webhook), remembers how far it reconciled,
and `bizgraph serve`'s GraphQL API shows the same figures. Set up in-process on SQLite; the
commands run as the operator types them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.persistence.migrate import upgrade
from api.container import close_container, make_container
from api.container.database import default_catalog
from api.settings import load_settings
from domain.alerting.alerts import AlertKind
from domain.billing.money import Money
from domain.billing.plans import PercentageMargin
from domain.ids import new_id
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageRecord, UsageSource
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from domain.usecases.webhooks import NewWebhook
from tests.cli.test_cli import environment, run, serve  # noqa: F401 (a fixture)
from tests.support.servers import WebhookReceiver, serve_in_thread
from tests.upstreams.usage_reports_fake import ReportsFake, Spend, openai_reports_app

ADMIN_KEY = "sk-admin-reconcile-test-key-0001"
ADMIN_TOKEN = "bzs_reconcile_admin_token_for_the_test_0001"
TODAY = datetime.now(UTC).date()
WEEK = [TODAY - timedelta(days=n) for n in range(7, 0, -1)]
DRIFTING = WEEK[3]
CALLS_A_DAY = 4
COST_OF_A_CALL = Decimal("0.0123")


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture
def provider() -> Iterator[tuple[ReportsFake, str]]:
    """What OpenAI saw: the week's calls, and on DRIFTING one more call Bizgraph never saw
    settle (so the provider billed more than Bizgraph recorded)."""
    fake = ReportsFake(ADMIN_KEY)
    for day in WEEK:
        calls = CALLS_A_DAY + (1 if day == DRIFTING else 0)
        fake.add(
            Spend(noon(day) + timedelta(minutes=n), "gpt-4o-mini-2024-07-18", 1, 90, 10, 0, 20,
                  Decimal("0.0003"), Decimal("0.012"), "key_agency", "proj_default")
            for n in range(calls)
        )  # fmt: skip
    with serve_in_thread(openai_reports_app(fake)) as url:
        yield fake, url


async def seed(env: dict[str, str], hook_url: str) -> str:
    settings = load_settings(env)
    await upgrade(settings.database_url)
    container = make_container(settings)
    try:
        await container.catalog().seed(*default_catalog())
        client, _ = await container.clients().create(
            NewClient("Acme", PercentageMargin(Decimal(20)))
        )
        key = (await container.keys().issue(NewKey(client.id))).key
        async with container.uow()() as uow:
            for day in WEEK:
                for n in range(CALLS_A_DAY):
                    await uow.usage.add(
                        UsageRecord(
                            id=new_id(), request_id=new_id(), attempt=0, client_id=client.id,
                            api_key_id=key.id, model_id="openai/gpt-4o-mini", provider="openai",
                            usage=TokenUsage(input_tokens=100, cached_input_tokens=10, output_tokens=20),
                            cost=Money(COST_OF_A_CALL, "USD"), charge=Money(Decimal("0.015"), "USD"),
                            price_version_id="pv", plan_version_id=None,
                            started_at=noon(day) + timedelta(minutes=n), latency_ms=10,
                            status=CallStatus.SUCCEEDED, source=UsageSource.REPORTED,
                        )
                    )  # fmt: skip
            await uow.commit()
        events = [AlertKind.RECONCILIATION_DRIFT]
        await container.webhooks().create(NewWebhook(url=hook_url, client_id=None, events=events))
        return client.id
    finally:
        await close_container(container)


async def deliver(env: dict[str, str]) -> list[Any]:
    container = make_container(load_settings(env))
    try:
        await container.webhook_dispatcher().run_once()
        async with container.uow()() as uow:
            return await uow.alerts.recent()
    finally:
        await close_container(container)


def test_a_week_reconciled_from_the_command_line(
    tmp_path: Path,
    provider: tuple[ReportsFake, str],
    serve: Callable[[dict[str, str]], str],  # noqa: F811 (the fixture imported above)
) -> None:
    _, url = provider
    env = environment(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    env.update(
        OPENAI_ADMIN_KEY=ADMIN_KEY,
        OPENAI_ADMIN_BASE_URL=url,
        BIZGRAPH_ALLOW_PRIVATE_URLS="true",
        BIZGRAPH_ADMIN_TOKEN=ADMIN_TOKEN,
        BIZGRAPH_ENV="development",
    )
    receiver = WebhookReceiver()
    with serve_in_thread(receiver.app) as hook:
        asyncio.run(seed(env, hook + "/hook"))
        done = run(env, "reconcile", "--from", WEEK[0].isoformat(), "--to", WEEK[-1].isoformat())
        again = run(env, "reconcile", "--from", WEEK[0].isoformat(), "--to", WEEK[-1].isoformat())
        alerts = asyncio.run(deliver(env))

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["day", "provider", "model"]
    rows = {line.split()[0]: line for line in lines[1:8]}
    assert sorted(rows) == [d.isoformat() for d in WEEK]
    recorded = COST_OF_A_CALL * CALLS_A_DAY  # 0.0492: the provider's 4 x (0.0003 + 0.012)
    for day in WEEK:
        row = rows[day.isoformat()]
        assert row.split()[1:3] == ["openai", "gpt-4o-mini"]
        assert f"{recorded} USD" in row
        if day == DRIFTING:
            assert "4 / 5" in row  # requests, recorded / reported
            assert row.split()[-7:-1] == ["0.0492", "USD", "0.0615", "USD", "0.0123", "25.00%"]
            assert row.rstrip().endswith("DRIFT")
        else:
            assert row.split()[3:8] == ["4", "400", "40", "0", "80"]  # the same on both sides
            assert row.split()[-2:] == ["0.0000", "0.00%"]  # agreed to the cent
    assert "7 rows, 1 drifting above 1%; 1 alerts raised" in done.stdout
    assert f"openai: reconciled through {WEEK[-1].isoformat()}" in done.stdout
    assert "1 drifting above 1%; 0 alerts raised" in again.stdout  # once per day and model
    assert ADMIN_KEY not in done.stdout + done.stderr

    [alert] = [a for a in alerts if a.kind is AlertKind.RECONCILIATION_DRIFT]
    assert alert.client_id is None
    assert alert.details["day"] == DRIFTING.isoformat()
    assert alert.details["drift"] == "0.0123"
    [delivered] = receiver.delivered()
    body = json.loads(delivered.body)
    assert body["type"] == "reconciliation_drift"
    assert body["client"] is None
    assert delivered.signature.startswith("sha256=")

    base = serve({**env, "BIZGRAPH_RECONCILE": "off"})
    answer = httpx.post(
        base + "/graphql",
        json={
            "query": """query($from: String!, $to: String!) {
              reconciliation(from: $from, to: $to) {
                rows { day model recorded { requests cost } reported { requests cost }
                       costDrift driftPercent drifting notThroughBizgraph }
                reconciledThrough { provider day }
              }
            }""",
            "variables": {"from": WEEK[0].isoformat(), "to": WEEK[-1].isoformat()},
        },
        headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=30,
    ).json()
    assert "errors" not in answer, answer
    table = answer["data"]["reconciliation"]
    assert table["reconciledThrough"] == [{"provider": "openai", "day": WEEK[-1].isoformat()}]
    by_day = {row["day"]: row for row in table["rows"]}
    assert sorted(by_day) == [d.isoformat() for d in WEEK]
    drifting = by_day[DRIFTING.isoformat()]
    assert drifting["recorded"] == {"requests": 4, "cost": "0.0492"}
    assert drifting["reported"] == {"requests": 5, "cost": "0.0615"}
    assert (drifting["costDrift"], drifting["driftPercent"]) == ("0.0123", "25.00")
    assert drifting["drifting"] is True
    calm = [row for day, row in by_day.items() if day != DRIFTING.isoformat()]
    assert all(Decimal(r["costDrift"]) == 0 and not r["drifting"] for r in calm)


def test_bad_dates_are_refused(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    assert run(env, "migrate").returncode == 0
    for args in (
        ("--from", "2026-12-40", "--to", "2026-12-01"),
        ("--from", "2026-12-05", "--to", "2026-12-01"),
        ("--from", "2026-12-01", "--to", "2026-12-02", "--provider", "openai"),  # no admin key
    ):
        refused = run(env, "reconcile", *args)
        assert refused.returncode == 1, refused.stdout
        assert refused.stderr.startswith("error:"), refused.stderr
        assert "Traceback" not in refused.stderr


def test_an_invoice_file_from_the_command_line(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    assert run(env, "migrate").returncode == 0
    good = tmp_path / "invoice.csv"
    good.write_text(f"date,model,cost,requests\n{WEEK[0]},claude-haiku-4-5,0.50,3\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"date,model,cost\n{WEEK[0]},claude-haiku-4-5,0.50\n{WEEK[1]},,1\n")

    imported = run(env, "reconcile-import", str(good), "--provider", "anthropic")
    refused = run(env, "reconcile-import", str(bad), "--provider", "anthropic")
    missing = run(env, "reconcile-import", str(tmp_path / "nope.csv"), "--provider", "anthropic")

    assert imported.returncode == 0, imported.stderr
    [row] = [line for line in imported.stdout.splitlines() if line.startswith(WEEK[0].isoformat())]
    assert row.split()[1:4] == ["anthropic", "claude-haiku-4-5", "0"]
    assert row.rstrip().endswith("NOT THROUGH BIZGRAPH")
    assert "1 rows, 1 drifting above 1%; 1 alerts raised" in imported.stdout
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: line 3: model is empty")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: cannot read")
