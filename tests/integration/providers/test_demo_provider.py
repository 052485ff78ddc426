"""The built-in demo provider: deterministic, OpenAI-shaped, with plausible token counts."""

from __future__ import annotations

import base64
import math
import struct
from datetime import UTC, datetime
from typing import Any

import pytest
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from adapters.providers.demo import DEMO_EPOCH, DemoProvider, approx_tokens, prompt_tokens
from domain.catalog.models import Model, ModelKind
from domain.metering.tokens import TokenUsage
from domain.providers import JSON, ProviderError

CHAT = Model(id="demo/chat", provider="demo", upstream_name="chat", max_output_tokens=256)
EMBED = Model(id="demo/embed", provider="demo", upstream_name="embed", kind=ModelKind.EMBEDDING)
QUESTION = "What does the billing gateway do for my agency clients?"


def chat_body(content: str = QUESTION, **extra: Any) -> JSON:
    return {
        "model": "demo/chat",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": content},
        ],
        **extra,
    }


async def stream_of(provider: DemoProvider, body: JSON) -> tuple[list[JSON], TokenUsage | None]:
    stream = await provider.open_chat_stream(CHAT, body)
    chunks = [chunk async for chunk in stream]
    await stream.aclose()
    return chunks, stream.usage


def text_of(chunks: list[JSON]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


async def test_same_request_same_answer_different_request_different_answer() -> None:
    first = await DemoProvider().chat(CHAT, chat_body())
    again = await DemoProvider().chat(CHAT, chat_body())
    other = await DemoProvider().chat(CHAT, chat_body("Tell me about invoices and taxes"))

    assert first == again
    assert first.body["id"].startswith("chatcmpl-demo-")
    assert other.body["id"] != first.body["id"]
    assert (
        other.body["choices"][0]["message"]["content"]
        != (first.body["choices"][0]["message"]["content"])
    )


async def test_answer_is_an_openai_chat_completion_mentioning_the_prompt() -> None:
    response = await DemoProvider().chat(CHAT, chat_body())

    completion = ChatCompletion.model_validate(response.body)
    assert completion.object == "chat.completion"
    assert completion.created == DEMO_EPOCH
    assert completion.model == "chat"
    assert completion.choices[0].finish_reason == "stop"
    content = completion.choices[0].message.content
    assert content is not None
    assert 'You said "What does the billing gateway..."' in content


async def test_usage_is_realistic_and_matches_the_body() -> None:
    response = await DemoProvider().chat(CHAT, chat_body())

    content = response.body["choices"][0]["message"]["content"]
    expected_prompt = 3 + (3 + approx_tokens("You are terse.")) + (3 + approx_tokens(QUESTION))
    assert response.usage == TokenUsage(
        input_tokens=expected_prompt, output_tokens=math.ceil(len(content) / 4)
    )
    usage = response.body["usage"]
    assert usage["prompt_tokens"] == expected_prompt == 27
    assert usage["completion_tokens"] == response.usage.output_tokens
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert 10 < response.usage.output_tokens < 100


def test_prompt_tokens_counts_text_parts_and_images() -> None:
    messages: list[JSON] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "abcdefgh"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        }
    ]

    assert prompt_tokens(messages) == 3 + 3 + 2 + 85


@pytest.mark.parametrize("key", ["max_tokens", "max_completion_tokens"])
async def test_output_respects_the_token_limit(key: str) -> None:
    response = await DemoProvider().chat(CHAT, {**chat_body(), key: 5})

    assert response.body["choices"][0]["finish_reason"] == "length"
    assert response.usage is not None
    assert 0 < response.usage.output_tokens <= 5
    assert response.body["usage"]["completion_tokens"] == response.usage.output_tokens


async def test_model_max_output_also_limits() -> None:
    tiny = Model(id="demo/chat", provider="demo", upstream_name="chat", max_output_tokens=3)

    response = await DemoProvider().chat(tiny, chat_body(max_tokens=100))

    assert response.body["choices"][0]["finish_reason"] == "length"
    assert response.usage is not None
    assert response.usage.output_tokens <= 3


async def test_stream_matches_the_unstreamed_answer() -> None:
    provider = DemoProvider()
    whole = await provider.chat(CHAT, chat_body(max_tokens=12))

    chunks, usage = await stream_of(provider, chat_body(max_tokens=12, stream=True))

    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk)
    assert text_of(chunks) == whole.body["choices"][0]["message"]["content"]
    assert usage == whole.usage
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == whole.body["choices"][0]["finish_reason"]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == whole.body["usage"]
    assert {c["id"] for c in chunks} == {whole.body["id"]}
    assert len(chunks) > 4  # role, several words, finish, usage


async def test_stream_usage_is_known_only_once_the_usage_chunk_went_out() -> None:
    stream = await DemoProvider().open_chat_stream(CHAT, chat_body(stream=True))

    first = await anext(stream)
    assert first["choices"]
    assert stream.usage is None
    await stream.aclose()
    await stream.aclose()

    assert stream.usage is None


async def test_clock_feeds_created() -> None:
    class Fixed:
        def now(self) -> datetime:
            return datetime(2026, 3, 1, tzinfo=UTC)

    response = await DemoProvider(clock=Fixed()).chat(CHAT, chat_body())

    assert response.body["created"] == int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"model": "demo/chat"}, id="no-messages"),
        pytest.param({"messages": []}, id="empty-messages"),
        pytest.param({"messages": [{"content": "hi"}]}, id="no-role"),
        pytest.param(chat_body(max_tokens=0), id="zero-max-tokens"),
        pytest.param(chat_body(max_tokens="5"), id="string-max-tokens"),
    ],
)
async def test_bad_chat_requests_are_openai_style_400s(body: JSON) -> None:
    with pytest.raises(ProviderError) as caught:
        await DemoProvider().chat(CHAT, body)

    assert caught.value.status == 400
    assert caught.value.is_client_error
    assert caught.value.body is not None
    assert caught.value.body["error"]["type"] == "invalid_request_error"


async def test_wrong_model_kind_is_a_400() -> None:
    with pytest.raises(ProviderError) as chat_on_embed:
        await DemoProvider().chat(EMBED, chat_body())
    with pytest.raises(ProviderError) as embed_on_chat:
        await DemoProvider().embed(CHAT, {"input": "x"})

    assert chat_on_embed.value.status == embed_on_chat.value.status == 400


# --------------------------------------------------------------------------- embeddings


async def test_embeddings_are_deterministic_unit_vectors() -> None:
    response = await DemoProvider().embed(EMBED, {"model": "demo/embed", "input": ["hello", "bye"]})
    again = await DemoProvider().embed(EMBED, {"model": "demo/embed", "input": "hello"})

    parsed = CreateEmbeddingResponse.model_validate(response.body)
    assert [d.index for d in parsed.data] == [0, 1]
    first, second = (d.embedding for d in parsed.data)
    assert len(first) == 64
    assert math.isclose(sum(v * v for v in first), 1.0)
    assert first != second
    assert again.body["data"][0]["embedding"] == first
    assert response.usage == TokenUsage(input_tokens=approx_tokens("hello") + approx_tokens("bye"))
    assert parsed.usage.prompt_tokens == parsed.usage.total_tokens == 3


async def test_embeddings_in_base64_as_the_openai_sdk_asks() -> None:
    plain = await DemoProvider().embed(EMBED, {"input": "hello"})
    encoded = await DemoProvider().embed(EMBED, {"input": "hello", "encoding_format": "base64"})

    raw = base64.b64decode(encoded.body["data"][0]["embedding"])
    decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
    vector = plain.body["data"][0]["embedding"]
    assert len(decoded) == 64
    assert all(
        math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7) for a, b in zip(decoded, vector, strict=True)
    )


async def test_embeddings_token_arrays_and_dimensions() -> None:
    response = await DemoProvider().embed(EMBED, {"input": [[1, 2, 3], [4]], "dimensions": 8})

    assert [len(d["embedding"]) for d in response.body["data"]] == [8, 8]
    assert response.usage == TokenUsage(input_tokens=4)


@pytest.mark.parametrize(
    "body",
    [{}, {"input": ""}, {"input": []}, {"input": [""]}, {"input": "x", "dimensions": 0}],
)
async def test_bad_embedding_requests_are_400s(body: JSON) -> None:
    with pytest.raises(ProviderError) as caught:
        await DemoProvider().embed(EMBED, body)

    assert caught.value.status == 400
