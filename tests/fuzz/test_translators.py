"""Every translation of a client's body (Anthropic -> OpenAI -> Anthropic or Gemini, embeddings
for Gemini) either succeeds or refuses with a ValidationError (a 400 in the route's format):
never another exception, whatever wrong JSON type sits in any field."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.providers.gemini_embeddings import embeddings_request_to_gemini
from api.rest.errors import ApiError
from api.rest.responses_format import ChatToResponsesStream, responses_to_chat_request
from domain.errors import ValidationError
from formats.anthropic.from_chat import openai_to_anthropic_request
from formats.anthropic.to_chat import anthropic_to_openai_request
from formats.gemini.from_chat import chat_request_to_gemini
from tests.fuzz.shapes import (
    CHAT_FIELDS,
    EMBEDDING_FIELDS,
    MESSAGES_FIELDS,
    RESPONSES_FIELDS,
    chat_body,
    embeddings_body,
    messages_body,
    mutated,
    responses_body,
)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MODEL = st.just("m")


def _translate_chat(body: Any) -> None:
    for translate in (
        lambda b: openai_to_anthropic_request(b, "claude", 100),
        chat_request_to_gemini,
    ):
        with contextlib.suppress(ValidationError):
            translate(body)


@FUZZ
@given(mutated(messages_body(MODEL), keep=("model",), fields=MESSAGES_FIELDS))
def test_anthropic_requests_translate_or_refuse(body: Any) -> None:
    try:
        translated = anthropic_to_openai_request(body)
    except ValidationError:
        return
    _translate_chat(translated)


@FUZZ
@given(mutated(chat_body(MODEL), keep=("model",), fields=CHAT_FIELDS))
def test_chat_requests_translate_or_refuse(body: Any) -> None:
    _translate_chat(body)


@FUZZ
@given(mutated(embeddings_body(MODEL), keep=("model",), fields=EMBEDDING_FIELDS))
def test_embedding_requests_translate_or_refuse(body: Any) -> None:
    with contextlib.suppress(ValidationError):
        embeddings_request_to_gemini(body, "text-embedding-004")


@FUZZ
@given(mutated(responses_body(MODEL), keep=("model",), fields=RESPONSES_FIELDS))
def test_responses_requests_translate_or_refuse(body: Any) -> None:
    try:
        translated = responses_to_chat_request(body)
    except ApiError as refused:
        status = refused.status
    else:
        status = 200
        _translate_chat(translated)
    assert status in (200, 400)
    if status == 400:
        return
    stream = ChatToResponsesStream(body, "m")  # the echoed request fields never break it
    stream.start()
    stream.finish()


def test_the_reported_translation_crashes_are_refused() -> None:
    base = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    for field, value in (("metadata", 5), ("metadata", "x"), ("stop_sequences", 5)):
        with pytest.raises(ValidationError, match=field):
            anthropic_to_openai_request({**base, field: value})


def test_the_chat_translations_refuse_wrong_types() -> None:
    base: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assistant = {"role": "assistant", "content": "x", "tool_calls": 5}
    cases: list[dict[str, Any]] = [
        {**base, "stop": 5},
        {**base, "messages": [{"role": "user", "content": "hi"}, assistant]},
        {**base, "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
        {**base, "tools": [5]},
        {**base, "temperature": "hot"},
    ]
    for body in cases:
        for translate in (
            lambda b: openai_to_anthropic_request(b, "claude", 100),
            chat_request_to_gemini,
        ):
            try:
                translate(body)
            except ValidationError:
                continue
            raise AssertionError(f"{body} was accepted")
