"""`bizgraph serve --access-log` with BIZGRAPH_LOG_FORMAT=json, as an operator runs it: every
line it writes is one JSON object, the access line of a call carries the request id its
response's `x-request-id` shows, with the client, model and status; a key in a URL is masked.
One process on SQLite; two `--workers` on PostgreSQL (the log configuration reaches them)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson

from api.container import close_container, make_container
from api.container.database import default_catalog
from api.settings import load_settings
from domain.billing.plans import PercentageMargin
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from tests.support.gateway_processes import gateway_env, start_gateways, stop_gateway
from tests.support.servers import serve_in_thread
from tests.upstreams.openai_fake import OpenAIScript, openai_fake_app

KEY_IN_URL = "bzk_live_SECRETSECRETSECRETSECRET"


async def test_json_lines_carry_the_request_id_of_the_response(
    database: str, tmp_path: Path
) -> None:
    workers = "2" if database.startswith("postgres") else "1"
    log = tmp_path / "serve.log"
    with serve_in_thread(openai_fake_app(OpenAIScript())) as upstream:
        env = gateway_env(database, upstream, tmp_path / "data") | {"BIZGRAPH_LOG_FORMAT": "json"}
        container = make_container(load_settings(env))
        try:
            await container.catalog().seed(*default_catalog())
            client, _ = await container.clients().create(
                NewClient("Logs", PercentageMargin(Decimal(30)), plan_effective_from=SINCE)
            )
            secret = (await container.keys().issue(NewKey(client.id))).secret
        finally:
            await close_container(container)
        ((url, process),) = start_gateways(env, log, options=("--access-log", "--workers", workers))
        try:
            _until_started(log, int(workers))  # /healthz answered by one worker is not both
            call = httpx.post(
                url + "/v1/chat/completions",
                headers={"authorization": f"Bearer {secret}"},
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            )
            keyed = httpx.get(f"{url}/healthz?key={KEY_IN_URL}")
        finally:
            stop_gateway(process)
    assert call.status_code == 200, call.text
    assert keyed.status_code == 200
    text = log.read_text()
    assert "SECRETSECRET" not in text
    assert secret not in text
    lines = [_parsed(line) for line in text.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    (of_call,) = [a for a in access if a["path"] == "/v1/chat/completions"]
    assert of_call["request_id"] == call.headers["x-request-id"]
    assert (of_call["method"], of_call["status"]) == ("POST", 200)
    assert (of_call["client_id"], of_call["model"]) == (client.id, "openai/gpt-4o-mini")
    assert of_call["client_addr"].startswith("127.0.0.1:")
    assert of_call["duration_ms"] >= 0
    (of_health,) = [a for a in access if a["path"].startswith("/healthz?key=")]
    assert of_health["path"] == "/healthz?key=[redacted]"
    assert of_health["request_id"] == keyed.headers["x-request-id"]
    assert "client_id" not in of_health
    started = [line for line in lines if "Started server process" in line["message"]]
    assert len(started) == int(workers)  # each worker logged through the JSON configuration


SINCE = datetime(2025, 1, 1, tzinfo=UTC)


def _until_started(log: Path, workers: int) -> None:
    deadline = time.monotonic() + 60
    while log.read_text().count("Started server process") < workers:
        if time.monotonic() > deadline:
            raise AssertionError(f"{workers} workers did not start:\n{log.read_text()}")
        time.sleep(0.1)


def _parsed(line: str) -> dict[str, Any]:
    try:
        found = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise AssertionError(f"not a JSON line: {line!r}") from None
    assert isinstance(found, dict), line
    assert {"time", "level", "logger", "message"} <= found.keys(), line
    assert found["time"].endswith("Z"), line
    return found
