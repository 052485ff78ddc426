"""`bizgraph serve --workers 2` with BIZGRAPH_METRICS=true: whichever worker answers a scrape,
the counters are the sum over both workers (prometheus-client's multiprocess mode, in a private
directory under the data dir that the serve command creates and removes)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from api.container import close_container, make_container
from api.container.database import default_catalog
from api.settings import load_settings
from domain.billing.plans import PercentageMargin
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from tests.support.gateway_processes import gateway_env, start_gateways, stop_gateway
from tests.support.servers import serve_in_thread
from tests.upstreams.openai_fake import OpenAIScript, openai_fake_app

SINCE = datetime(2025, 1, 1, tzinfo=UTC)
TOKEN = "metrics-scrape-token-" + "w" * 30
CALLS = 24
MINI = "openai/gpt-4o-mini"


def _counters(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_two_workers_add_up(database: str, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    data = tmp_path / "data"
    with serve_in_thread(openai_fake_app(OpenAIScript())) as upstream:
        env = gateway_env(database, upstream, data)
        container = make_container(load_settings(env))  # metrics off here: setup only
        try:
            await container.catalog().seed(*default_catalog())
            client, _ = await container.clients().create(
                NewClient("Workers", PercentageMargin(Decimal(30)), plan_effective_from=SINCE)
            )
            secret = (await container.keys().issue(NewKey(client.id))).secret
        finally:
            await close_container(container)
        env |= {"BIZGRAPH_METRICS": "true", "BIZGRAPH_METRICS_TOKEN": TOKEN}
        ((url, process),) = start_gateways(env, log, options=("--workers", "2"))
        try:
            _until_started(log, 2)
            (private,) = (data / "prometheus").iterdir()  # this serve process's directory

            async def call(i: int) -> int:
                async with httpx.AsyncClient(timeout=20) as http:  # a connection each
                    response = await http.post(
                        url + "/v1/chat/completions",
                        headers={"authorization": f"Bearer {secret}"},
                        json={"model": MINI, "messages": [{"role": "user", "content": f"{i}"}]},
                    )
                    return response.status_code

            statuses = await asyncio.gather(*(call(i) for i in range(CALLS)))
            refused = httpx.post(url + "/v1/chat/completions", json={"model": MINI})
            scrapes = []
            for _ in range(6):  # a connection each: either worker may answer
                scrapes.append(
                    httpx.get(url + "/metrics", headers={"authorization": f"Bearer {TOKEN}"})
                )
            # Each worker's heartbeat loop wrote its gauge file there: both share the directory.
            writers = {f.stem.rpartition("_")[2] for f in private.glob("gauge_max_*.db")}
        finally:
            stop_gateway(process)
    assert statuses == [200] * CALLS
    assert refused.status_code == 401
    assert len(writers) == 2
    for scrape in scrapes:
        assert scrape.status_code == 200, scrape.text
        found = _counters(scrape.text)
        labels = (
            ("model", MINI),
            ("provider", "openai"),
            ("route", "/v1/chat/completions"),
            ("status_class", "2xx"),
        )
        assert found[("bizgraph_requests_total", labels)] == CALLS
        tokens = (("class", "input"), ("client", client.id), ("model", MINI))
        assert found[("bizgraph_tokens_total", tokens)] == CALLS * 12  # the fake's usage
        output = (("class", "output"), ("client", client.id), ("model", MINI))
        assert found[("bizgraph_tokens_total", output)] == CALLS * 7
        assert found[("bizgraph_refusals_total", (("reason", "auth"),))] == 1
    assert not private.exists()  # removed when the serve process ended


def _until_started(log: Path, workers: int) -> None:
    deadline = time.monotonic() + 60
    while log.read_text().count("Started server process") < workers:
        if time.monotonic() > deadline:
            raise AssertionError(f"{workers} workers did not start:\n{log.read_text()}")
        time.sleep(0.1)
