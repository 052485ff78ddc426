"""`GET /metrics` over real HTTP (BIZGRAPH_METRICS=true): after a few calls of every kind the
exposition parses with Prometheus's own text parser and its counters equal the calls made:
requests by route, model, provider and status class, tokens by class, cost and charge as the
usage records say, refusals by reason, fallbacks; the scrape needs the token; metrics off
answer 404."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.container import Container, close_container, make_container
from api.serving import server_options
from api.settings import Settings
from api.settings_sections import MetricsSettings
from domain.billing.clients import ClientStatus
from domain.billing.plans import PercentageMargin
from domain.metering.usage import UsageRecord
from domain.usecases.budgets import BudgetInput
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from tests.api.conftest import SINCE, Upstreams, _seed, gateway_settings
from tests.api.conftest import Gateway as SessionGateway
from tests.support.databases import postgres_database, require_postgres, sqlite_database
from tests.support.servers import serve_in_thread
from tests.upstreams.anthropic_fake import AnthropicScript

TOKEN = "metrics-scrape-token-" + "t" * 30
HI = [{"role": "user", "content": "hi"}]
CHAT = "/v1/chat/completions"
MINI = "openai/gpt-4o-mini"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class Metered:
    url: str
    settings: Settings
    operator: Container  # a second container on the same database (reads, setup)


@asynccontextmanager
async def metered_gateway(backend: str, upstreams: Upstreams, tmp: Path) -> AsyncIterator[Metered]:
    if backend == "postgres":
        await require_postgres()
        database = postgres_database()
    else:
        database = sqlite_database(tmp)
    async with database as url:
        settings = dataclasses.replace(
            gateway_settings(url, upstreams), metrics=MetricsSettings(enabled=True, token=TOKEN)
        )
        await _seed(settings)
        operator = make_container(settings)
        try:
            with serve_in_thread(create_app(settings), **server_options()) as base:
                yield Metered(base, settings, operator)
        finally:
            await close_container(operator)


async def scrape(http: httpx.AsyncClient, token: str | None = TOKEN) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await http.get("/metrics", headers=headers)


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def new_client(operator: Container, name: str, **key: object) -> tuple[str, str]:
    client, _ = await operator.clients().create(
        NewClient(name=name, plan=PercentageMargin(Decimal(30)), plan_effective_from=SINCE)
    )
    issued = await operator.keys().issue(NewKey(client.id, **key))  # type: ignore[arg-type]
    return client.id, issued.secret


async def usage(operator: Container, client_id: str) -> list[UsageRecord]:
    async with operator.uow()() as uow:
        return list(await uow.usage.for_client(client_id, SINCE, SINCE.replace(year=2100)))


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_the_counters_equal_the_calls_made(
    backend: str, upstreams: Upstreams, tmp_path: Path
) -> None:
    async with metered_gateway(backend, upstreams, tmp_path) as gw:
        op = gw.operator
        paying, secret = await new_client(op, "Paying")
        limited, limited_secret = await new_client(op, "Limited", rpm_limit=1)
        _, narrow_secret = await new_client(op, "Narrow", allowed_models=("openai/gpt-4o",))
        suspended, suspended_secret = await new_client(op, "Suspended")
        await op.clients().set_status(suspended, ClientStatus.SUSPENDED)
        broke, broke_secret = await new_client(op, "Broke")
        await op.budgets().set_for_client(broke, BudgetInput(Decimal("0.0000001")))

        def auth(key: str) -> dict[str, str]:
            return {"authorization": f"Bearer {key}"}

        body = {"model": MINI, "messages": HI, "max_tokens": 20}
        streamed = {**body, "stream": True, "stream_options": {"include_usage": True}}
        async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
            statuses = [
                (await http.post(CHAT, json=body, headers=auth(secret))).status_code,
                (await http.post(CHAT, json=body, headers=auth(secret))).status_code,
                (await http.post(CHAT, json=streamed, headers=auth(secret))).status_code,
                (await http.post(CHAT, json=body, headers=auth(limited_secret))).status_code,
                (await http.post(CHAT, json=body, headers=auth(limited_secret))).status_code,
                (await http.post(CHAT, json=body)).status_code,
                (
                    await http.post(CHAT, json=body, headers=auth("bzk_live_" + "x" * 40))
                ).status_code,
                (await http.post(CHAT, json=body, headers=auth(narrow_secret))).status_code,
                (await http.post(CHAT, json=body, headers=auth(suspended_secret))).status_code,
                (await http.post(CHAT, json=body, headers=auth(broke_secret))).status_code,
            ]
            upstreams.openai.status = 500  # the flaky model falls back to Anthropic's
            upstreams.anthropic.enqueue(AnthropicScript(text="Fallback", output_tokens=3))
            flaky = {"model": "openai/flaky", "messages": HI, "max_tokens": 20}
            statuses.append((await http.post(CHAT, json=flaky, headers=auth(secret))).status_code)
            response = await scrape(http)

        assert statuses == [200, 200, 200, 200, 429, 401, 401, 403, 403, 429, 200]
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        found = samples(response.text)
        requests = "bizgraph_requests_total"
        chat = {"route": CHAT, "model": MINI, "provider": "openai"}
        assert value(found, requests, **chat, status_class="2xx") == 4
        assert value(found, requests, **chat, status_class="4xx") == 3  # rate, allow-list, budget
        no_model = {"route": CHAT, "model": "", "provider": ""}
        # no key, a wrong key, a suspended client (refused before its model is looked up)
        assert value(found, requests, **no_model, status_class="4xx") == 3
        fallback = {"route": CHAT, "model": "anthropic/claude-haiku-4-5", "provider": "anthropic"}
        assert value(found, requests, **fallback, status_class="2xx") == 1
        assert value(found, "bizgraph_fallbacks_total", model="openai/flaky") == 1
        refusals = {
            reason: value(found, "bizgraph_refusals_total", reason=reason)
            for reason in ("auth", "rate_limit", "not_allowed", "suspended", "budget")
        }
        assert refusals == {
            "auth": 2,
            "rate_limit": 1,
            "not_allowed": 1,
            "suspended": 1,
            "budget": 1,
        }

        for client_id in (paying, limited):
            records = await usage(op, client_id)
            for record in records:
                assert record.client_id == client_id
            by_model: dict[str, list[UsageRecord]] = {}
            for record in records:
                by_model.setdefault(record.model_id, []).append(record)
            for model, mine in by_model.items():
                labels = {"client": client_id, "model": model}
                for label, name in (
                    ("input", "input_tokens"),
                    ("output", "output_tokens"),
                    ("cached_input", "cached_input_tokens"),
                    ("reasoning", "reasoning_tokens"),
                ):
                    expected = sum(getattr(r.usage, name) for r in mine)
                    assert value(found, "bizgraph_tokens_total", **labels, **{"class": label}) == (
                        expected
                    ), (model, label)
                cost = float(sum((r.cost.amount for r in mine), Decimal(0)))
                charge = float(sum((r.charge.amount for r in mine), Decimal(0)))
                assert value(found, "bizgraph_cost_total", **labels, currency="USD") == (
                    pytest.approx(cost)
                )
                assert value(found, "bizgraph_charge_total", **labels, currency="USD") == (
                    pytest.approx(charge)
                )
        assert value(
            found, "bizgraph_tokens_total", client=paying, model=MINI, **{"class": "input"}
        )
        # Timings: one request histogram sample per request, one first byte (the stream).
        assert value(found, "bizgraph_request_seconds_count", route=CHAT) == 11
        assert value(found, "bizgraph_first_byte_seconds_count", route=CHAT) == 1
        assert value(found, "bizgraph_upstream_seconds_count", provider="openai") == 5
        assert value(found, "bizgraph_upstream_seconds_count", provider="anthropic") == 1
        assert value(found, "bizgraph_overhead_seconds_count", route=CHAT) == 8  # with a model
        assert value(found, "bizgraph_write_batch_size_count") >= 1
        assert value(found, "bizgraph_write_batch_size_sum") >= 10  # 5 opens, 5 settlements
        assert ("bizgraph_journal_open", ()) in found
        assert ("bizgraph_webhook_outbox_depth", ()) in found
        assert value(found, "bizgraph_budget_used_ratio", client=broke) == 0
        assert ("bizgraph_budget_used_ratio", (("client", paying),)) not in found
        assert value(found, "bizgraph_background_last_success_timestamp", loop="lease_heartbeat")


async def test_a_scrape_needs_the_token_and_labels_hold_no_input(
    upstreams: Upstreams, tmp_path: Path
) -> None:
    chosen = "chosen-by-the-caller-" + uuid.uuid4().hex
    async with (
        metered_gateway("sqlite", upstreams, tmp_path) as gw,
        httpx.AsyncClient(base_url=gw.url, timeout=10) as http,
    ):
        _, secret = await new_client(gw.operator, "Curious")
        unknown = await http.post(
            CHAT,
            json={"model": chosen, "messages": HI},
            headers={"authorization": f"Bearer {secret}"},
        )
        nowhere = await http.get(f"/v1/{chosen}")
        missing = await scrape(http, None)
        wrong = await scrape(http, TOKEN[:-1] + "x")
        right = await scrape(http)
    assert (unknown.status_code, nowhere.status_code) == (404, 404)
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert "bizgraph_" not in missing.text + wrong.text
    assert chosen not in right.text  # neither the model asked for nor the path
    found = samples(right.text)
    labels = {"route": CHAT, "model": "", "provider": "", "status_class": "4xx"}
    assert value(found, "bizgraph_requests_total", **labels) == 1
    assert (
        value(
            found,
            "bizgraph_requests_total",
            route="/{path:path}",
            model="",
            provider="",
            status_class="4xx",
        )
        == 1
    )


async def test_metrics_are_off_by_default(gateway: SessionGateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        response = await http.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert "bizgraph_" not in response.text
