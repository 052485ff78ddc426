"""The Gemini fake speaks the real wire format: Google's own `google-genai` SDK parses it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from google import genai
from google.genai import types

from tests.support.servers import serve_in_thread
from tests.upstreams import billing
from tests.upstreams.gemini_fake import GeminiScript, gemini_fake_app


@pytest.fixture
def fake() -> Iterator[tuple[GeminiScript, genai.Client]]:
    script = GeminiScript(
        reply="Hello from the fake Gemini",
        chunks=3,
        prompt_tokens=9,
        output_tokens=6,
        thoughts_tokens=2,
        cached_tokens=4,
    )
    with serve_in_thread(gemini_fake_app(script)) as url:
        client = genai.Client(
            api_key=script.api_key,
            http_options=types.HttpOptions(base_url=url, api_version="v1beta"),
        )
        yield script, client


def test_google_genai_reads_a_generate_content_answer(
    fake: tuple[GeminiScript, genai.Client],
) -> None:
    script, client = fake

    answer = client.models.generate_content(model="gemini-2.5-flash", contents="Hi")

    assert answer.text == "Hello from the fake Gemini"
    assert answer.usage_metadata is not None
    assert answer.usage_metadata.prompt_token_count == 9
    assert answer.usage_metadata.thoughts_token_count == 2
    assert answer.usage_metadata.cached_content_token_count == 4
    assert script.last.header("x-goog-api-key") == script.api_key


def test_google_genai_reads_a_stream_with_cumulative_usage(
    fake: tuple[GeminiScript, genai.Client],
) -> None:
    _, client = fake

    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="Hi"))

    assert "".join(c.text or "" for c in chunks) == "Hello from the fake Gemini"
    last = chunks[-1].usage_metadata
    assert last is not None
    assert last.candidates_token_count == 6


def test_google_genai_counts_tokens_and_embeds_on_the_fake(
    fake: tuple[GeminiScript, genai.Client],
) -> None:
    script, client = fake

    counted = client.models.count_tokens(model="gemini-2.5-flash", contents="Hello")
    embedded = client.models.embed_content(
        model="gemini-embedding-001",
        contents=["hello", "hi"],
        config=types.EmbedContentConfig(output_dimensionality=3),
    )

    assert counted.total_tokens == billing.gemini_prompt_tokens(script.requests[0].body)
    assert script.requests[0].path == "/v1beta/models/gemini-2.5-flash:countTokens"
    assert embedded.embeddings is not None
    assert [e.values for e in embedded.embeddings] == [[5.0, 0.0, 0.25], [2.0, 1.0, 0.25]]
    assert script.last.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"


def test_the_fake_serves_v1_and_embed_content_like_google() -> None:
    script = GeminiScript()
    with serve_in_thread(gemini_fake_app(script)) as url:
        client = genai.Client(
            api_key=script.api_key, http_options=types.HttpOptions(base_url=url, api_version="v1")
        )
        answer = client.models.generate_content(model="gemini-2.5-flash", contents="Hi")
        single = httpx.post(
            url + "/v1beta/models/gemini-embedding-001:embedContent",
            json={"content": {"parts": [{"text": "abc"}]}},
            headers={"x-goog-api-key": script.api_key},
        )
        client.close()

    assert answer.text == script.reply
    assert script.requests[0].path == "/v1/models/gemini-2.5-flash:generateContent"
    assert single.json() == {"embedding": {"values": [3.0, 0.0, 0.25, 0.25]}}
