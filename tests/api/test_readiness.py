"""`/healthz` and `/readyz` on a running gateway (outages: tests/processes/test_outages.py)."""

from __future__ import annotations

import httpx

from tests.api.conftest import Gateway


async def test_a_serving_gateway_is_alive_and_ready(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        alive = await http.get("/healthz")
        ready = await http.get("/readyz")
        posted = await http.post("/readyz")
    assert alive.json() == {"status": "ok"}
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "writer"}  # no Redis configured here
    assert all(check["ok"] for check in body["checks"].values())
    assert posted.status_code == 404  # GET only; the web apps' catch-all answers the rest
