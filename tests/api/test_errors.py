"""Failures reach clients as the official SDKs expect them, and lose nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import anthropic
import httpx
import openai
import pytest

from domain.billing.clients import ClientStatus
from domain.billing.money import Money
from domain.metering.usage import CallStatus
from tests.api.conftest import Admin, Gateway, Sdks, Upstreams
from tests.upstreams.anthropic_fake import AnthropicScript

HELLO = [{"role": "user", "content": "Hello"}]


def post(
    gateway: Gateway,
    secret: str | None,
    body: object,
    path: str = "/v1/chat/completions",
    **kwargs: object,
) -> httpx.Response:
    headers = {"authorization": f"Bearer {secret}"} if secret else {}
    return httpx.post(gateway.url + path, json=body, headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]


async def test_missing_bad_and_revoked_keys_are_401(
    sdks: Sdks, gateway: Gateway, admin: Admin
) -> None:
    _, secret = await admin.client_with_key()
    [key] = await admin.container.keys().for_client(_)
    await admin.container.keys().revoke(key.id)

    missing = post(gateway, None, {"model": "demo/chat", "messages": HELLO})
    with pytest.raises(openai.AuthenticationError):
        sdks.openai("bzk_live_" + "x" * 43).chat.completions.create(
            model="demo/chat", messages=HELLO
        )  # type: ignore[arg-type]
    with pytest.raises(openai.AuthenticationError) as revoked:
        sdks.openai(secret).chat.completions.create(model="demo/chat", messages=HELLO)  # type: ignore[arg-type]

    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "missing_api_key"
    assert missing.headers["x-request-id"].startswith("req_")
    assert secret not in str(revoked.value.body)


async def test_an_expired_key_is_refused(gateway: Gateway, admin: Admin) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=1)
    _, secret = await admin.client_with_key(expires_at=soon)
    import asyncio

    await asyncio.sleep(1.2)
    assert post(gateway, secret, {"model": "demo/chat", "messages": HELLO}).status_code == 401


async def test_model_allow_list_and_suspension_are_403(
    sdks: Sdks, gateway: Gateway, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key(allowed_models=("demo/chat",))

    with pytest.raises(openai.PermissionDeniedError):
        sdks.openai(secret).chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)  # type: ignore[arg-type]
    listed = [m.id for m in sdks.openai(secret).models.list()]
    await admin.container.clients().set_status(client_id, ClientStatus.SUSPENDED)
    with pytest.raises(openai.PermissionDeniedError):
        sdks.openai(secret).chat.completions.create(model="demo/chat", messages=HELLO)  # type: ignore[arg-type]

    assert listed == ["demo/chat"]
    assert await admin.usage(client_id) == []


async def test_unknown_model_is_404_and_malformed_bodies_are_400(
    sdks: Sdks, gateway: Gateway, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()

    with pytest.raises(openai.NotFoundError):
        sdks.openai(secret).chat.completions.create(model="nope/nothing", messages=HELLO)  # type: ignore[arg-type]
    not_json = httpx.post(
        gateway.url + "/v1/chat/completions",
        content=b"{oops",
        headers={"authorization": f"Bearer {secret}"},
    )
    no_messages = post(gateway, secret, {"model": "demo/chat", "messages": []})
    bad_max = post(gateway, secret, {"model": "demo/chat", "messages": HELLO, "max_tokens": -1})
    too_big = post(
        gateway,
        secret,
        {"model": "demo/chat", "messages": [{"role": "user", "content": "x" * 70_000}]},
    )

    assert [r.status_code for r in (not_json, no_messages, bad_max, too_big)] == [
        400,
        400,
        400,
        413,
    ]
    assert not_json.json()["error"]["type"] == "invalid_request_error"
    assert await admin.usage(client_id) == []


async def test_an_upstream_429_passes_with_its_retry_after(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.openai.status, upstreams.openai.retry_after = 429, "7"

    with pytest.raises(openai.RateLimitError) as caught:
        sdks.openai(secret).chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)  # type: ignore[arg-type]

    assert caught.value.response.headers["retry-after"] == "7"
    [record] = await admin.usage(client_id)
    assert record.status is CallStatus.FAILED
    assert record.charge == Money(Decimal(0))


async def test_an_upstream_client_error_passes_through_with_its_message(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    _, secret = await admin.client_with_key()
    upstreams.openai.status = 400
    upstreams.openai.error = {"error": {"message": "temperature is too high", "type": "x"}}

    with pytest.raises(openai.BadRequestError) as caught:
        sdks.openai(secret).chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)  # type: ignore[arg-type]

    assert "temperature is too high" in str(caught.value)


async def test_upstream_failure_is_502_and_timeout_504_without_leaking_secrets(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.openai.status = 500
    failed = post(gateway, secret, {"model": "openai/gpt-4o-mini", "messages": HELLO})
    upstreams.openai.status, upstreams.openai.first_byte_delay = None, 3.0
    slow = post(gateway, secret, {"model": "openai/gpt-4o-mini", "messages": HELLO})

    assert (failed.status_code, slow.status_code) == (502, 504)
    for response in (failed, slow):
        text = response.text
        assert upstreams.openai.api_key not in text
        assert upstreams.urls["openai"] not in text
        assert "Traceback" not in text
    records = await admin.usage(client_id)
    assert [r.status for r in records] == [CallStatus.FAILED, CallStatus.FAILED]


async def test_v1_messages_answers_in_anthropics_error_format(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    _, secret = await admin.client_with_key()
    upstreams.anthropic.enqueue(AnthropicScript(status=529))
    client = sdks.anthropic(secret)

    with pytest.raises(anthropic.NotFoundError) as unknown:
        client.messages.create(model="nope/x", max_tokens=10, messages=HELLO)  # type: ignore[arg-type]
    with pytest.raises(anthropic.InternalServerError):
        client.messages.create(model="anthropic/claude-sonnet-4-5", max_tokens=10, messages=HELLO)  # type: ignore[arg-type]
    by_x_api_key = httpx.post(
        gateway.url + "/v1/messages",
        json={"model": "demo/chat", "max_tokens": 20, "messages": HELLO},
        headers={"x-api-key": secret, "anthropic-version": "2023-06-01"},
    )
    no_max_tokens = post(
        gateway, secret, {"model": "demo/chat", "messages": HELLO}, path="/v1/messages"
    )

    assert unknown.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert by_x_api_key.status_code == 200
    assert by_x_api_key.json()["type"] == "message"
    assert no_max_tokens.status_code == 400
    assert no_max_tokens.json()["type"] == "error"


async def test_unknown_routes_answer_in_the_openai_error_format(gateway: Gateway) -> None:
    response = httpx.get(gateway.url + "/v1/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"]["message"]
    assert response.headers["x-request-id"]


async def test_the_client_key_and_headers_never_reach_a_provider(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    _, secret = await admin.client_with_key()
    httpx.post(
        gateway.url + "/v1/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": HELLO, "api_base": "http://evil"},
        headers={
            "authorization": f"Bearer {secret}",
            "cookie": "session=abc",
            "x-custom": "tracking",
            "openai-organization": "org-client",
        },
    )

    sent = upstreams.openai.last
    assert sent.header("authorization") == f"Bearer {upstreams.openai.api_key}"
    names = {name for name, _ in sent.headers}
    assert not names & {"cookie", "x-custom", "openai-organization"}
    assert all(secret not in value for _, value in sent.headers)
    assert "api_base" not in (sent.body or {})
