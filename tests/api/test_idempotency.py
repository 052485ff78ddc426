"""`Idempotency-Key`: the same key and body within 24 h is billed once."""

from __future__ import annotations

import threading
import time

import httpx

from tests.api.conftest import Admin, Gateway, Upstreams

HELLO = [{"role": "user", "content": "Hello"}]


def call(gateway: Gateway, secret: str, key: str, body: dict[str, object]) -> httpx.Response:
    headers = {"authorization": f"Bearer {secret}", "idempotency-key": key}
    return httpx.post(gateway.url + "/v1/chat/completions", json=body, headers=headers, timeout=10)


async def test_a_retried_call_is_billed_once_and_replays_the_answer(
    gateway: Gateway, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    body = {"model": "demo/chat", "messages": HELLO}

    first = call(gateway, secret, "retry-1", body)
    second = call(gateway, secret, "retry-1", body)
    other_key = call(gateway, secret, "retry-2", body)

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["x-bizgraph-original-request-id"] == first.headers["x-request-id"]
    assert "idempotent-replayed" not in other_key.headers
    assert len(await admin.usage(client_id)) == 2  # first and other_key, not the replay


async def test_the_same_key_with_another_body_is_refused(gateway: Gateway, admin: Admin) -> None:
    _, secret = await admin.client_with_key()
    call(gateway, secret, "k", {"model": "demo/chat", "messages": HELLO})

    changed = call(gateway, secret, "k", {"model": "demo/chat", "messages": HELLO * 2})

    assert changed.status_code == 422
    assert changed.json()["error"]["code"] == "idempotency_body_mismatch"


async def test_keys_are_scoped_to_their_client(gateway: Gateway, admin: Admin) -> None:
    a_id, a_secret = await admin.client_with_key()
    b_id, b_secret = await admin.client_with_key()
    body = {"model": "demo/chat", "messages": HELLO}

    call(gateway, a_secret, "shared", body)
    other = call(gateway, b_secret, "shared", body)

    assert "idempotent-replayed" not in other.headers
    assert len(await admin.usage(a_id)) == len(await admin.usage(b_id)) == 1


async def test_a_retry_while_in_flight_gets_409(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.openai.first_byte_delay = 1.0
    body = {"model": "openai/gpt-4o-mini", "messages": HELLO}
    results: list[httpx.Response] = []
    slow = threading.Thread(target=lambda: results.append(call(gateway, secret, "busy", body)))
    slow.start()
    time.sleep(0.4)
    during = call(gateway, secret, "busy", body)
    slow.join()

    assert during.status_code == 409
    assert during.json()["error"]["code"] == "idempotency_in_flight"
    assert results[0].status_code == 200
    assert len(await admin.usage(client_id)) == 1


async def test_a_failed_call_releases_its_key(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    _, secret = await admin.client_with_key()
    body = {"model": "openai/gpt-4o-mini", "messages": HELLO}
    upstreams.openai.status = 500
    failed = call(gateway, secret, "again", body)
    upstreams.openai.status = None

    retried = call(gateway, secret, "again", body)

    assert (failed.status_code, retried.status_code) == (502, 200)
    assert "idempotent-replayed" not in retried.headers


async def test_a_completed_stream_is_not_replayed(gateway: Gateway, admin: Admin) -> None:
    client_id, secret = await admin.client_with_key()
    body = {"model": "demo/chat", "messages": HELLO, "stream": True}

    first = call(gateway, secret, "stream", body)
    again = call(gateway, secret, "stream", body)

    assert first.status_code == 200
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "idempotency_stream_completed"
    assert len(await admin.usage(client_id)) == 1
