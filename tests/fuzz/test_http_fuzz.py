"""The fuzzing stage: bodies of every route's shapes, mutated into wrong types and sizes (and
some raw bytes), sent over real HTTP to a running gateway in front of the fake upstreams. Every
answer is below 500, a 4xx is in the route's own error format, nothing hangs (client timeouts)
or resets, and the gateway still serves afterwards. Bounded: 80 examples per route,
derandomized, so the stage is deterministic and takes well under a minute."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import Target
from tests.fuzz.shapes import (
    CHAT_FIELDS,
    EMBEDDING_FIELDS,
    GEMINI_EMBED_FIELDS,
    GEMINI_FIELDS,
    MESSAGES_FIELDS,
    RESPONSES_FIELDS,
    chat_body,
    embeddings_body,
    gemini_body,
    gemini_embed_body,
    messages_body,
    mutated,
    responses_body,
)

FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
CHAT_MODELS = st.sampled_from(
    ["demo/chat", "openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "google/gemini-2.5-flash"]
)
EMBEDDING_MODELS = st.sampled_from(
    ["demo/embed", "openai/text-embedding-3-small", "google/gemini-embedding-001"]
)
RAW = st.binary(max_size=300) | st.sampled_from(
    [b"", b"[]", b"null", b"{", b'"x"', b"{}", b"\xff\xfe{}", b'{"model": "\xc3("}', b"[" * 5000]
)


def _body(
    valid: st.SearchStrategy[dict[str, Any]], fields: tuple[str, ...]
) -> st.SearchStrategy[Any]:
    """Mostly mutated bodies (the model kept, so the call reaches its translation), some with
    the model mutated too, some still valid, some not JSON at all (bytes)."""
    return st.one_of(
        mutated(valid, keep=("model",), fields=fields),
        mutated(valid, fields=(*fields, "model")),
        valid,
        RAW,
    )


def _send(target: Target, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    assert len(content) <= 100_000
    return target.http.post(
        target.url + path,
        content=content,
        headers={"content-type": "application/json", **headers},
    )


def _openai_format(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["message"], str), error
        assert error["message"], error
        assert isinstance(error["type"], str), error
        assert error["code"] not in ("internal_error", "upstream_error"), error


def _anthropic_format(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert body["type"] == "error", body
        assert isinstance(body["error"]["type"], str), body
        assert isinstance(body["error"]["message"], str), body
        assert body["error"]["message"], body


@FUZZ
@given(body=_body(chat_body(CHAT_MODELS), CHAT_FIELDS))
def test_chat_completions(target: Target, body: Any) -> None:
    response = _send(target, "/v1/chat/completions", body, target.bearer)
    _openai_format(response)


@FUZZ
@given(body=_body(embeddings_body(EMBEDDING_MODELS), EMBEDDING_FIELDS))
def test_embeddings(target: Target, body: Any) -> None:
    response = _send(target, "/v1/embeddings", body, target.bearer)
    _openai_format(response)


@FUZZ
@given(body=_body(messages_body(CHAT_MODELS), MESSAGES_FIELDS))
def test_messages_native_and_translated(target: Target, body: Any) -> None:
    response = _send(target, "/v1/messages", body, {"x-api-key": target.secret})
    _anthropic_format(response)


@settings(FUZZ, max_examples=40)
@given(body=_body(responses_body(CHAT_MODELS), RESPONSES_FIELDS))
def test_responses_translated(target: Target, body: Any) -> None:
    response = _send(target, "/v1/responses", body, target.bearer)
    _openai_format(response)


def _gemini_format(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] == response.status_code, error
        assert isinstance(error["message"], str), error
        assert error["message"], error
        assert isinstance(error["status"], str), error


GEMINI_FUZZ = settings(FUZZ, max_examples=40)  # two routes' worth, kept small
GEMINI_CHAT = st.sampled_from(["demo/chat", "gemini-2.5-flash"])
GEMINI_METHODS = st.sampled_from(["generateContent", "streamGenerateContent?alt=sse"])


@GEMINI_FUZZ
@given(
    model=GEMINI_CHAT,
    method=GEMINI_METHODS,
    body=st.one_of(mutated(gemini_body(), fields=GEMINI_FIELDS), gemini_body(), RAW),
)
def test_gemini_generate_native_and_translated(
    target: Target, model: str, method: str, body: Any
) -> None:
    path = f"/v1beta/models/{model}:{method}"
    response = _send(target, path, body, {"x-goog-api-key": target.secret})
    _gemini_format(response)


@GEMINI_FUZZ
@given(
    model=st.sampled_from(["demo/embed", "gemini-embedding-001"]),
    body=st.one_of(mutated(gemini_embed_body(), fields=GEMINI_EMBED_FIELDS), RAW),
)
def test_gemini_embeddings_native_and_translated(target: Target, model: str, body: Any) -> None:
    path = f"/v1/models/{model}:batchEmbedContents"
    response = _send(target, path, body, {"x-goog-api-key": target.secret})
    _gemini_format(response)


LOGIN = st.fixed_dictionaries(
    {"token": st.text(max_size=60), "app": st.sampled_from(["admin", "portal"])}
)


@FUZZ
@given(body=st.one_of(mutated(LOGIN, fields=("token", "app")), RAW))
def test_login(target: Target, body: Any) -> None:
    response = _send(target, "/auth/login", body, {})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["message"], str), error
        assert isinstance(error["code"], str), error


def test_the_gateway_is_healthy_after_the_fuzzing(target: Target) -> None:
    assert target.healthy()
