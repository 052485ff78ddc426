"""The Gemini fake speaks the real wire format: Google's own `google-genai` SDK parses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google import genai
from google.genai import types

from tests.support.servers import serve_in_thread
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
