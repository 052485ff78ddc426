"""Real `bizgraph serve` processes for fault tests: started on a free port against a given
database (and Redis, when given), in front of a fake OpenAI upstream, their output in a log."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from runtime.lookups import TRUSTED_FOR_SECONDS
from tests.support.private_services import free_port
from tests.upstreams.openai_fake import OpenAIScript

BIZGRAPH = str(Path(sys.executable).parent / "bizgraph")
ADMIN_TOKEN = "faults-owner-token-" + "f" * 30


def gateway_env(
    database_url: str, upstream_url: str, data_dir: Path, redis_url: str | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BIZGRAPH_", "OPENAI_"))}
    env |= {
        "BIZGRAPH_DATABASE_URL": database_url,
        "BIZGRAPH_DATA_DIR": str(data_dir),
        "BIZGRAPH_SECRET_KEY": "faults-server-secret-" + "s" * 30,
        "BIZGRAPH_ADMIN_TOKEN": ADMIN_TOKEN,
        "OPENAI_API_KEY": OpenAIScript().api_key,
        "OPENAI_BASE_URL": upstream_url + "/v1",
    }
    if redis_url is not None:
        env["BIZGRAPH_REDIS_URL"] = redis_url
    return env


def start_gateways(
    env: dict[str, str], log: Path, count: int = 1, options: tuple[str, ...] = ()
) -> list[tuple[str, subprocess.Popen[bytes]]]:
    """`count` serving processes (started together, `options` added to `bizgraph serve`) and
    their base URLs, once each answers /healthz."""
    started = []
    for _ in range(count):
        port = free_port()
        with log.open("ab") as out:
            process = subprocess.Popen(
                [BIZGRAPH, "serve", "--port", str(port), *options], env=env, stdout=out, stderr=out
            )
        started.append((f"http://127.0.0.1:{port}", process))
    try:
        for url, process in started:
            _wait_healthy(url, process, log)
    except BaseException:
        for _, process in started:
            process.kill()
            process.wait(timeout=10)
        raise
    return started


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not start:\n{log.read_text()}")


def stop_gateway(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def ledger_verify(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIZGRAPH, "ledger", "verify"], env=env, capture_output=True, text=True, timeout=60
    )


async def refused_within_a_second(
    http: httpx.AsyncClient,
    url: str,
    secret: str,
    since: float,
    status: int,
    accepted: tuple[int, ...] = (200,),
) -> None:
    """Call `url`'s chat completions with `secret` until refused with `status`; meanwhile the
    key may still be `accepted` (answered with one of those). A gateway trusts a background
    check of the configuration revision for at most a second, so a call sent more than a
    second after `since` (monotonic, when the change was confirmed) must be refused; calls
    sent earlier may not be. Nothing else about timing is asserted."""
    body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    while True:
        sent = time.monotonic()
        response = await http.post(
            url + "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {secret}"}
        )
        if response.status_code == status:
            return
        assert response.status_code in accepted, response.text
        late = sent - since
        assert late <= TRUSTED_FOR_SECONDS, f"{url} served the call {late:.2f} s after the change"
        await asyncio.sleep(0.02)
