"""Every body is read bounded while it streams in, parsed as UTF-8 JSON with its nesting
bounded, and refused in the route's own format: a chunked sign-in body of any size costs the
server at most its 4 KiB limit; JSON nested hundreds deep is a 400, not a 500; a non-UTF-8
GraphQL body is a GraphQL 400 and the keep-alive connection stays usable."""

from __future__ import annotations

import orjson
import pytest

from api.request_body import MAX_JSON_DEPTH
from tests.api.conftest import ADMIN_TOKEN, Admin, Gateway
from tests.support.hostile import nested_json
from tests.support.raw_http import connect, exchange, stream_until_answered

CSRF = {"x-bizgraph-request": "1", "content-type": "application/json"}
OWNER = {"authorization": f"Bearer {ADMIN_TOKEN}", "content-type": "application/json"}
HUGE = 256 * 1024 * 1024  # never sent in full: the server answers long before


def test_a_chunked_sign_in_body_is_refused_as_it_streams_in(gateway: Gateway) -> None:
    answer, sent = stream_until_answered(gateway.url, "/auth/login", CSRF, HUGE)

    assert answer.status == 413
    assert orjson.loads(answer.body)["error"]["code"] == "payload_too_large"
    assert sent < HUGE // 4  # the rest was never read (before: read whole, then refused)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/chat/completions",
        "/v1/messages",
        "/v1beta/models/demo/chat:generateContent",
        "/graphql",
    ],
)
async def test_chunked_bodies_on_every_route_are_bounded(
    gateway: Gateway, admin: Admin, path: str
) -> None:
    _, secret = await admin.client_with_key()
    headers = OWNER if path == "/graphql" else {**OWNER, "authorization": f"Bearer {secret}"}

    answer, sent = stream_until_answered(gateway.url, path, headers, HUGE)

    assert answer.status == 413
    assert sent < HUGE // 4


def _openai_code(body: bytes) -> str:
    return str(orjson.loads(body)["error"]["code"])


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 300, 5000])
async def test_deeply_nested_json_is_a_400_in_each_routes_format(
    gateway: Gateway, admin: Admin, depth: int
) -> None:
    _, secret = await admin.client_with_key()
    key = {"authorization": f"Bearer {secret}", "content-type": "application/json"}
    deep = nested_json(depth)
    chat = b'{"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": %s}]}'
    embed = b'{"model": "openai/text-embedding-3-small", "input": %s}'
    anthropic = b'{"model": "anthropic/claude-haiku-4-5", "max_tokens": 5, "messages": %s}'
    variables = b'{"query": "{ version }", "variables": {"x": %s}}'
    login = b'{"token": "x", "app": "admin", "extra": %s}'
    login_deep = nested_json(min(depth, 300))  # within the sign-in's 4 KiB

    with connect(gateway.url) as sock:
        answers = {
            "chat": exchange(sock, "POST", "/v1/chat/completions", key, chat % deep),
            "embed": exchange(sock, "POST", "/v1/embeddings", key, embed % deep),
            "anthropic": exchange(sock, "POST", "/v1/messages", key, anthropic % deep),
            "graphql": exchange(sock, "POST", "/graphql", OWNER, variables % deep),
            "login": exchange(sock, "POST", "/auth/login", CSRF, login % login_deep),
        }

    assert {name: a.status for name, a in answers.items()} == {
        "chat": 400,
        "embed": 400,
        "anthropic": 400,
        "graphql": 400,
        "login": 400,
    }
    assert _openai_code(answers["chat"].body) == "too_deeply_nested"
    assert _openai_code(answers["embed"].body) == "too_deeply_nested"
    anthropic_error = orjson.loads(answers["anthropic"].body)
    assert anthropic_error["type"] == "error"
    assert anthropic_error["error"]["type"] == "invalid_request_error"
    assert "deeper than" in anthropic_error["error"]["message"]
    graphql_error = orjson.loads(answers["graphql"].body)["errors"][0]
    assert graphql_error["extensions"]["code"] == "too_deeply_nested"
    assert orjson.loads(answers["login"].body)["error"]["code"] == "bad_request"


@pytest.mark.parametrize("model", ["gemini-2.5-flash", "demo/chat"])
async def test_deeply_nested_json_on_the_gemini_routes_is_googles_400(
    gateway: Gateway, admin: Admin, model: str
) -> None:
    _, secret = await admin.client_with_key()
    key = {"x-goog-api-key": secret, "content-type": "application/json"}
    body = b'{"contents": [{"role": "user", "parts": [{"text": "x"}]}], "tools": %s}'

    with connect(gateway.url) as sock:
        answer = exchange(
            sock, "POST", f"/v1beta/models/{model}:generateContent", key, body % nested_json(300)
        )

    assert answer.status == 400
    error = orjson.loads(answer.body)["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")


async def test_nesting_within_the_limit_is_served(gateway: Gateway, admin: Admin) -> None:
    _, secret = await admin.client_with_key()
    key = {"authorization": f"Bearer {secret}", "content-type": "application/json"}
    # Deep inside a field the gateway does not read; the fake upstream answers as usual.
    body = {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "metadata": orjson.loads(nested_json(MAX_JSON_DEPTH - 1)),  # 64 with the body
    }

    with connect(gateway.url) as sock:
        answer = exchange(sock, "POST", "/v1/chat/completions", key, orjson.dumps(body))

    assert answer.status == 200, answer.body


def test_a_non_utf8_graphql_body_is_a_graphql_400_and_the_connection_lives_on(
    gateway: Gateway,
) -> None:
    bad = b'{"query": "{ version \xff\xfe }"}'
    good = b'{"query": "{ version }"}'

    with connect(gateway.url) as sock:
        refused = exchange(sock, "POST", "/graphql", OWNER, bad)
        served = exchange(sock, "POST", "/graphql", OWNER, good)

    assert refused.status == 400
    assert refused.headers["content-type"].startswith("application/json")
    error = orjson.loads(refused.body)["errors"][0]
    assert error["extensions"]["code"] == "invalid_json"
    assert "UTF-8" in error["message"]
    assert served.status == 200
    assert orjson.loads(served.body)["data"]["version"]


def test_a_graphql_body_of_another_media_type_is_a_graphql_415(gateway: Gateway) -> None:
    body = b'{"query": "{ version }"}'

    with connect(gateway.url) as sock:
        refused = exchange(sock, "POST", "/graphql", {**OWNER, "content-type": "text/plain"}, body)
        served = exchange(sock, "POST", "/graphql", OWNER, body)

    assert refused.status == 415
    error = orjson.loads(refused.body)["errors"][0]
    assert error["extensions"]["code"] == "unsupported_media_type"
    assert served.status == 200
