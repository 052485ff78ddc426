"""The OpenAI fake speaks the real wire format: the official `openai` SDK parses it."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.support.servers import serve_in_thread
from tests.upstreams.openai_fake import OpenAIScript, openai_fake_app, openai_usage


@pytest.fixture
def fake() -> Iterator[tuple[OpenAIScript, openai.OpenAI]]:
    script = OpenAIScript(reply="one two three", usage=openai_usage(11, 3, cached=5, reasoning=1))
    with (
        serve_in_thread(openai_fake_app(script)) as url,
        openai.OpenAI(base_url=url + "/v1", api_key=script.api_key, max_retries=0) as client,
    ):
        yield script, client


def test_the_sdk_reads_completions_streams_and_errors(
    fake: tuple[OpenAIScript, openai.OpenAI],
) -> None:
    script, client = fake
    messages = [{"role": "user", "content": "Count"}]

    answer = client.chat.completions.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=messages,
            stream=True,  # type: ignore[arg-type]
            stream_options={"include_usage": True},
        )
    )
    script.status, script.retry_after = 429, "3"
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]

    assert answer.choices[0].message.content == "one two three"
    assert answer.usage is not None
    assert answer.usage.prompt_tokens_details is not None
    assert answer.usage.prompt_tokens_details.cached_tokens == 5
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two three"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 3
    assert limited.value.response.headers["retry-after"] == "3"
