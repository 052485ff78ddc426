"""Malformed bodies get a 4xx in the route's own error format with a specific code, on SQLite
and PostgreSQL alike, and nothing is billed for them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import Admin, Gateway

HELLO = [{"role": "user", "content": "Hello"}]


def post(gateway: Gateway, secret: str, path: str, body: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {secret}"}
    return httpx.post(gateway.url + path, json=body, headers=headers, timeout=10)


def anthropic_error(response: httpx.Response) -> str:
    body = response.json()
    assert body["type"] == "error", body
    assert body["error"]["type"] == "invalid_request_error", body
    message: str = body["error"]["message"]
    return message


def openai_error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == "invalid_request_error", error
    assert error["code"] not in (None, "upstream_error", "internal_error"), error
    return error


WRONG_MESSAGES_FIELDS: list[tuple[str, Any]] = [
    ("metadata", 5),
    ("metadata", "x"),
    ("stop_sequences", 5),
    ("tools", "x"),
    ("tool_choice", "auto"),
    ("system", 5),
    ("temperature", "hot"),
]
WRONG_CHAT_FIELDS: list[tuple[str, Any]] = [
    ("stop", 5),
    ("tools", [5]),
    ("temperature", "hot"),
    ("messages", [{"role": "user", "content": [{"type": "text", "text": 5}]}]),
]


@pytest.mark.parametrize("model", ["demo/chat", "openai/gpt-4o-mini", "google/gemini-2.5-flash"])
async def test_translated_messages_with_a_wrong_type_are_400(
    gateway: Gateway, admin: Admin, model: str
) -> None:
    client_id, secret = await admin.client_with_key()
    for field, value in WRONG_MESSAGES_FIELDS:
        body = {"model": model, "max_tokens": 20, "messages": HELLO, field: value}
        if field == "tool_choice":
            body["tools"] = [{"name": "f", "input_schema": {"type": "object"}}]

        response = post(gateway, secret, "/v1/messages", body)

        assert response.status_code == 400, (field, value, response.text)
        assert field in anthropic_error(response)
    assert await admin.usage(client_id) == []


@pytest.mark.parametrize("model", ["anthropic/claude-haiku-4-5", "google/gemini-2.5-flash"])
async def test_translated_chat_with_a_wrong_type_is_400(
    gateway: Gateway, admin: Admin, model: str
) -> None:
    client_id, secret = await admin.client_with_key()
    for field, value in WRONG_CHAT_FIELDS:
        body = {"model": model, "messages": HELLO, field: value}

        response = post(gateway, secret, "/v1/chat/completions", body)

        assert response.status_code == 400, (field, value, response.text)
        assert openai_error(response)["code"] == "invalid_value"
    assert all(record.charge.amount == 0 for record in await admin.usage(client_id))


@pytest.mark.parametrize("model", ["demo/chat", "openai/gpt-4o-mini"])
async def test_a_message_without_a_role_is_the_callers_error(
    gateway: Gateway, admin: Admin, model: str
) -> None:
    client_id, secret = await admin.client_with_key()

    no_role = post(gateway, secret, "/v1/chat/completions", {"model": model, "messages": [{}]})
    bad_role = post(
        gateway,
        secret,
        "/v1/chat/completions",
        {"model": model, "messages": [{"role": "boss", "content": "hi"}]},
    )
    not_object = post(gateway, secret, "/v1/chat/completions", {"model": model, "messages": [5]})

    assert [r.status_code for r in (no_role, bad_role, not_object)] == [400, 400, 400]
    assert openai_error(no_role) == {
        "message": "messages[0].role must be one of system, developer, user, assistant, tool, "
        "function",
        "type": "invalid_request_error",
        "param": "messages[0].role",
        "code": "invalid_value",
    }
    assert openai_error(bad_role)["code"] == "invalid_value"
    assert openai_error(not_object)["code"] == "invalid_type"
    assert await admin.usage(client_id) == []


@pytest.mark.parametrize(
    ("path", "model", "body"),
    [
        ("/v1/chat/completions", "demo/embed", {"messages": HELLO}),
        ("/v1/chat/completions", "openai/text-embedding-3-small", {"messages": HELLO}),
        ("/v1/messages", "demo/embed", {"messages": HELLO, "max_tokens": 5}),
        ("/v1/embeddings", "demo/chat", {"input": "hello"}),
        ("/v1/embeddings", "openai/gpt-4o-mini", {"input": "hello"}),
    ],
)
async def test_a_model_of_the_wrong_kind_is_refused_before_any_provider_call(
    gateway: Gateway, admin: Admin, path: str, model: str, body: dict[str, Any]
) -> None:
    client_id, secret = await admin.client_with_key()

    response = post(gateway, secret, path, {"model": model, **body})

    assert response.status_code == 400, response.text
    if path == "/v1/messages":
        assert "model" in anthropic_error(response)
    else:
        error = openai_error(response)
        assert (error["code"], error["param"]) == ("model_kind_mismatch", "model")
    assert await admin.usage(client_id) == []


async def test_embedding_input_of_a_wrong_type_is_400(gateway: Gateway, admin: Admin) -> None:
    _, secret = await admin.client_with_key()
    for value in (5, {"a": 1}, [1.5], [["x"]], [True], [[]]):
        body = {"model": "demo/embed", "input": value}

        response = post(gateway, secret, "/v1/embeddings", body)

        assert response.status_code == 400, (value, response.text)
        assert openai_error(response)["param"] == "input"


async def test_a_providers_refusal_keeps_the_providers_own_code(
    gateway: Gateway, admin: Admin
) -> None:
    """A client error only the provider can see (here OpenAI's), labelled with its code."""
    _, secret = await admin.client_with_key()
    body = {"model": "openai/gpt-4o-mini", "messages": HELLO, "bogus_option": 1}

    response = post(gateway, secret, "/v1/chat/completions", body)

    assert response.status_code == 400, response.text
    error = openai_error(response)
    assert error["code"] == "invalid_request"
    assert error["message"] == "Unrecognized request argument supplied: bogus_option"
