"""The Anthropic adapter against a strict Anthropic fake served over real HTTP, and the official
anthropic SDK against the same fake (so the fake is known to speak the real wire format)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anthropic
import httpx
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from adapters.providers.anthropic import AnthropicProvider
from adapters.providers.http import Timeouts
from domain.catalog.models import Model
from domain.metering.tokens import TokenUsage
from domain.providers import JSON, ProviderError, ProviderFailure
from tests.support.servers import serve_in_thread
from tests.upstreams.anthropic_fake import AnthropicFake, AnthropicScript, ToolCall

PROVIDER_KEY = "sk-ant-provider-secret-0123456789"
FAST = Timeouts(connect=2.0, first_byte=2.0, idle=2.0, total=10.0)
MODEL = Model(
    id="anthropic/claude-sonnet-4-5",
    provider="anthropic",
    upstream_name="claude-sonnet-4-5-20250929",
    max_output_tokens=8192,
)
CACHED = AnthropicScript(
    text="Cached hello.", input_tokens=10, cache_read=2000, cache_write=300, output_tokens=5
)
CACHED_USAGE = TokenUsage(
    input_tokens=2310, output_tokens=5, cached_input_tokens=2000, cache_write_tokens=300
)
ALLOWED_HEADERS = {
    "host",
    "content-type",
    "content-length",
    "accept",
    "accept-encoding",
    "user-agent",
    "connection",
    "x-api-key",
    "anthropic-version",
}


@pytest.fixture(scope="module")
def fake_server() -> Iterator[tuple[AnthropicFake, str]]:
    fake = AnthropicFake(api_key=PROVIDER_KEY)
    with serve_in_thread(fake.app) as url:
        yield fake, url


@pytest.fixture
def fake(fake_server: tuple[AnthropicFake, str]) -> AnthropicFake:
    fake_server[0].reset()
    return fake_server[0]


@pytest.fixture
def fake_url(fake_server: tuple[AnthropicFake, str]) -> str:
    return fake_server[1]


@pytest.fixture
async def provider(fake_url: str) -> AsyncIterator[AnthropicProvider]:
    adapter = AnthropicProvider("anthropic", fake_url, PROVIDER_KEY, FAST)
    yield adapter
    await adapter.aclose()


def chat_body(**extra: Any) -> JSON:
    return {
        "model": "anthropic/claude-sonnet-4-5",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello"},
        ],
        **extra,
    }


def native_body(**extra: Any) -> JSON:
    return {
        "model": "anthropic/claude-sonnet-4-5",
        "max_tokens": 100,
        "system": [{"type": "text", "text": "Long prompt", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "Say hello"}],
        **extra,
    }


def free_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


async def drain(stream: Any, into: list[Any]) -> None:
    async for item in stream:
        into.append(item)


def assert_secret_free(exc: ProviderError) -> None:
    for text in (str(exc), repr(exc), exc.message, json.dumps(exc.body or {})):
        assert PROVIDER_KEY not in text


# ---------------------------------------------------------------- chat, translated


async def test_chat_translates_both_ways_and_counts_every_input_class(
    provider: AnthropicProvider, fake: AnthropicFake
) -> None:
    fake.enqueue(CACHED)
    response = await provider.chat(MODEL, chat_body())

    assert response.usage == CACHED_USAGE
    ChatCompletion.model_validate(response.body)
    assert response.body["model"] == "anthropic/claude-sonnet-4-5"
    assert response.body["choices"][0]["message"]["content"] == "Cached hello."
    assert response.body["choices"][0]["finish_reason"] == "stop"
    assert response.body["usage"]["prompt_tokens"] == 2310
    assert response.body["usage"]["prompt_tokens_details"] == {"cached_tokens": 2000}

    (request,) = fake.requests
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == PROVIDER_KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert set(request.headers) <= ALLOWED_HEADERS
    assert request.body == {
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 8192,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Say hello"}],
    }


async def test_chat_tools_round_trip_is_accepted_by_the_strict_upstream(
    provider: AnthropicProvider, fake: AnthropicFake
) -> None:
    fake.enqueue(AnthropicScript(text="", tool=ToolCall("weather", {"city": "Rome"}, id="toolu_2")))
    body = chat_body(
        messages=[
            {"role": "user", "content": "Weather in Paris, then Rome?"},
            {
                "role": "assistant",
                "content": "Checking Paris.",
                "tool_calls": [
                    {
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
        ],
        tools=[
            {
                "type": "function",
                "function": {"name": "weather", "parameters": {"type": "object"}},
            }
        ],
        tool_choice="auto",
        max_tokens=50,
    )
    response = await provider.chat(MODEL, body)

    message = response.body["choices"][0]["message"]
    assert message["content"] is None
    assert message["tool_calls"] == [
        {
            "id": "toolu_2",
            "type": "function",
            "function": {"name": "weather", "arguments": '{"city":"Rome"}'},
        }
    ]
    assert response.body["choices"][0]["finish_reason"] == "tool_calls"
    assert fake.requests[0].body["max_tokens"] == 50


async def test_chat_stream_yields_openai_chunks_and_the_usage_chunk_last(
    provider: AnthropicProvider, fake: AnthropicFake
) -> None:
    fake.enqueue(CACHED)
    stream = await provider.open_chat_stream(MODEL, chat_body())
    chunks = [chunk async for chunk in stream]
    await stream.aclose()
    await stream.aclose()  # safe twice

    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Cached hello."
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == 2310
    assert stream.usage == CACHED_USAGE
    assert fake.requests[0].body["stream"] is True


async def test_chat_stream_tool_call(provider: AnthropicProvider, fake: AnthropicFake) -> None:
    fake.enqueue(AnthropicScript(text="", tool=ToolCall("weather", {"city": "Paris"})))
    stream = await provider.open_chat_stream(MODEL, chat_body())
    chunks = [chunk async for chunk in stream]

    calls = [
        d for c in chunks if c["choices"] for d in c["choices"][0]["delta"].get("tool_calls", [])
    ]
    assert calls[0]["function"]["name"] == "weather"
    assert json.loads("".join(c["function"]["arguments"] for c in calls)) == {"city": "Paris"}
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"


# ---------------------------------------------------------------- native messages


async def test_native_messages_relay_the_body_with_the_upstream_model(
    provider: AnthropicProvider, fake: AnthropicFake
) -> None:
    fake.enqueue(
        AnthropicScript(
            text="Hi",
            thinking="pondering",
            input_tokens=10,
            cache_read=2000,
            cache_write=300,
            output_tokens=5,
        )
    )
    body = native_body(
        thinking={"type": "enabled", "budget_tokens": 1024},
        api_key="sk-client-smuggled",
        base_url="http://169.254.169.254",
        stream=False,
    )
    response = await provider.messages(MODEL, body)

    assert response.usage == CACHED_USAGE
    assert response.body["type"] == "message"
    assert [b["type"] for b in response.body["content"]] == ["thinking", "text"]
    sent = fake.requests[0].body
    assert sent["model"] == "claude-sonnet-4-5-20250929"
    assert sent["system"] == body["system"]  # cache_control survives
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert not {"api_key", "base_url", "stream"} & set(sent)
    assert body["model"] == "anthropic/claude-sonnet-4-5"  # the caller's body is not mutated


async def test_native_stream_relays_events_without_pings(
    provider: AnthropicProvider, fake: AnthropicFake
) -> None:
    fake.enqueue(CACHED)
    stream = await provider.open_messages_stream(MODEL, native_body())
    events = [event async for event in stream]
    await stream.aclose()

    names = [name for name, _ in events]
    assert names[0] == "message_start"
    assert names[-2:] == ["message_delta", "message_stop"]
    assert "ping" not in names
    text = "".join(
        data["delta"]["text"]
        for name, data in events
        if name == "content_block_delta" and data["delta"]["type"] == "text_delta"
    )
    assert text == "Cached hello."
    assert stream.usage == CACHED_USAGE
    assert fake.requests[0].body["stream"] is True


async def test_native_stream_usage_from_message_start_and_last_delta(
    provider: AnthropicProvider, fake: AnthropicFake
) -> None:
    fake.enqueue(AnthropicScript(output_tokens=33, cache_read=5, delta_repeats_input=False))
    stream = await provider.open_messages_stream(MODEL, native_body())
    async for _ in stream:
        pass
    assert stream.usage == TokenUsage(input_tokens=17, output_tokens=33, cached_input_tokens=5)


# ---------------------------------------------------------------- errors


async def test_wrong_key_is_a_401_with_the_body_and_no_secret(
    fake_url: str, fake: AnthropicFake
) -> None:
    adapter = AnthropicProvider("anthropic", fake_url, "sk-ant-wrong-key", FAST)
    try:
        with pytest.raises(ProviderError) as caught:
            await adapter.chat(MODEL, chat_body())
    finally:
        await adapter.aclose()
    exc = caught.value
    assert (exc.failure, exc.status, exc.is_client_error) == (ProviderFailure.STATUS, 401, True)
    assert exc.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
    }
    assert "sk-ant-wrong-key" not in str(exc)


async def test_bad_request_keeps_anthropics_error_body(
    provider: AnthropicProvider, fake: AnthropicFake
) -> None:
    body = native_body(messages=[{"role": "assistant", "content": "I start"}])
    with pytest.raises(ProviderError) as caught:
        await provider.messages(MODEL, body)
    assert caught.value.status == 400
    assert caught.value.body is not None
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    assert not caught.value.triggers_fallback
    assert_secret_free(caught.value)


async def test_rate_limit_keeps_retry_after(
    provider: AnthropicProvider, fake: AnthropicFake
) -> None:
    fake.enqueue(AnthropicScript(status=429, retry_after="17"))
    with pytest.raises(ProviderError) as caught:
        await provider.chat(MODEL, chat_body())
    assert (caught.value.status, caught.value.retry_after) == (429, "17")
    assert not caught.value.is_client_error
    assert_secret_free(caught.value)


@pytest.mark.parametrize(("status", "kind"), [(500, "api_error"), (529, "overloaded_error")])
@pytest.mark.parametrize("streamed", [False, True])
async def test_server_errors_trigger_fallback(
    provider: AnthropicProvider, fake: AnthropicFake, status: int, kind: str, streamed: bool
) -> None:
    fake.enqueue(AnthropicScript(status=status))
    call = provider.open_messages_stream if streamed else provider.messages
    with pytest.raises(ProviderError) as caught:
        await call(MODEL, native_body())
    exc = caught.value
    assert (exc.failure, exc.status, exc.triggers_fallback) == (
        ProviderFailure.STATUS,
        status,
        True,
    )
    assert exc.body is not None
    assert exc.body["error"]["type"] == kind
    assert_secret_free(exc)


@pytest.mark.parametrize("native", [False, True])
async def test_in_stream_error_event_raises_with_the_usage_so_far(
    provider: AnthropicProvider, fake: AnthropicFake, native: bool
) -> None:
    fake.enqueue(AnthropicScript(stream_error="overloaded_error", input_tokens=40))
    stream: Any
    if native:
        stream = await provider.open_messages_stream(MODEL, native_body())
    else:
        stream = await provider.open_chat_stream(MODEL, chat_body())
    received: list[Any] = []
    with pytest.raises(ProviderError) as caught:
        await drain(stream, received)
    exc = caught.value
    assert received  # the stream had started before failing
    assert (exc.failure, exc.status, exc.triggers_fallback) == (ProviderFailure.STATUS, 529, True)
    assert exc.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "forced in-stream failure"},
    }
    assert exc.usage == TokenUsage(input_tokens=40, output_tokens=1)
    await stream.aclose()


async def test_connection_dropped_mid_stream(
    provider: AnthropicProvider, fake: AnthropicFake
) -> None:
    fake.enqueue(AnthropicScript(drop_after=4))
    stream = await provider.open_chat_stream(MODEL, chat_body())
    with pytest.raises(ProviderError) as caught:
        async for _ in stream:
            pass
    assert caught.value.failure is ProviderFailure.CONNECTION
    assert caught.value.usage == TokenUsage(input_tokens=12, output_tokens=1)
    assert_secret_free(caught.value)
    await stream.aclose()


async def test_timeout_before_the_answer(fake_url: str, fake: AnthropicFake) -> None:
    fake.enqueue(AnthropicScript(delay=1.5))
    adapter = AnthropicProvider("anthropic", fake_url, PROVIDER_KEY, Timeouts(total=0.3))
    try:
        with pytest.raises(ProviderError) as caught:
            await adapter.chat(MODEL, chat_body())
    finally:
        await adapter.aclose()
    assert caught.value.failure is ProviderFailure.TIMEOUT
    assert caught.value.triggers_fallback


async def test_stream_first_byte_and_idle_timeouts(fake_url: str, fake: AnthropicFake) -> None:
    adapter = AnthropicProvider(
        "anthropic", fake_url, PROVIDER_KEY, Timeouts(first_byte=0.3, idle=0.3)
    )
    try:
        fake.enqueue(AnthropicScript(delay=1.5))
        with pytest.raises(ProviderError) as first_byte:
            await adapter.open_messages_stream(MODEL, native_body())
        fake.enqueue(AnthropicScript(event_delay=1.0))
        stream = await adapter.open_messages_stream(MODEL, native_body())
        with pytest.raises(ProviderError) as idle:
            async for _ in stream:
                pass
        await stream.aclose()
    finally:
        await adapter.aclose()
    assert first_byte.value.failure is ProviderFailure.TIMEOUT
    assert idle.value.failure is ProviderFailure.TIMEOUT
    assert idle.value.usage == TokenUsage(input_tokens=12, output_tokens=1)


async def test_connection_refused_holds_no_secret() -> None:
    adapter = AnthropicProvider("anthropic", free_port_url(), PROVIDER_KEY, FAST)
    try:
        with pytest.raises(ProviderError) as caught:
            await adapter.chat(MODEL, chat_body())
    finally:
        await adapter.aclose()
    assert caught.value.failure is ProviderFailure.CONNECTION
    assert caught.value.triggers_fallback
    assert_secret_free(caught.value)


async def test_embeddings_are_refused_as_a_client_error(provider: AnthropicProvider) -> None:
    with pytest.raises(ProviderError) as caught:
        await provider.embed(MODEL, {"input": "x"})
    assert caught.value.is_client_error


# ---------------------------------------------------------------- the fake speaks the real format


async def test_official_sdk_parses_the_fake(fake_url: str, fake: AnthropicFake) -> None:
    client = anthropic.AsyncAnthropic(base_url=fake_url, api_key=PROVIDER_KEY, max_retries=0)
    try:
        fake.enqueue(CACHED, AnthropicScript(text="", tool=ToolCall("weather", {"city": "Oslo"})))
        message = await client.messages.create(
            model="claude-fake-test",
            max_tokens=64,
            messages=[{"role": "user", "content": "Say hello"}],
        )
        assert message.content[0].type == "text"
        assert message.content[0].text == "Cached hello."
        assert message.usage.cache_read_input_tokens == 2000

        async with client.messages.stream(
            model="claude-fake-test",
            max_tokens=64,
            messages=[{"role": "user", "content": "Weather?"}],
        ) as stream:
            final = await stream.get_final_message()
        assert final.stop_reason == "tool_use"
        assert final.content[0].type == "tool_use"
        assert final.content[0].input == {"city": "Oslo"}
        assert final.usage.output_tokens == 7

        fake.enqueue(AnthropicScript(status=529))
        with pytest.raises(anthropic.APIStatusError) as caught:
            await client.messages.create(
                model="claude-fake-test",
                max_tokens=64,
                messages=[{"role": "user", "content": "x"}],
            )
        assert caught.value.status_code == 529
    finally:
        await client.close()
    assert fake.requests[0].headers["anthropic-version"]  # the SDK's own version


VALID: JSON = {
    "model": "claude-x",
    "max_tokens": 5,
    "messages": [{"role": "user", "content": "hi"}],
}


@pytest.mark.parametrize(
    "body",
    [
        {k: v for k, v in VALID.items() if k != "max_tokens"},
        {**VALID, "max_tokens": "5"},
        {**VALID, "messages": []},
        {**VALID, "messages": [{"role": "assistant", "content": "hi"}]},
        {**VALID, "messages": [*VALID["messages"], {"role": "user", "content": "again"}]},
        {**VALID, "messages": [{"role": "user", "content": [{"type": "video"}]}]},
        {**VALID, "system": [{"type": "image"}]},
        {**VALID, "stream_options": {"include_usage": True}},
        {**VALID, "temperature": 1.5},
        {
            **VALID,
            "messages": [
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x"}]}
            ],
        },
    ],
    ids=[
        "no-max-tokens",
        "string-max-tokens",
        "no-messages",
        "assistant-first",
        "two-user-turns",
        "unknown-block",
        "system-image",
        "openai-only-key",
        "temperature-above-1",
        "orphan-tool-result",
    ],
)
async def test_the_fake_refuses_what_anthropic_refuses(
    fake_url: str, fake: AnthropicFake, body: JSON
) -> None:
    headers = {"x-api-key": PROVIDER_KEY, "anthropic-version": "2023-06-01"}
    async with httpx.AsyncClient(base_url=fake_url) as client:
        refused = await client.post("/v1/messages", json=body, headers=headers)
        accepted = await client.post("/v1/messages", json=VALID, headers=headers)
        unversioned = await client.post(
            "/v1/messages", json=VALID, headers={"x-api-key": PROVIDER_KEY}
        )
    assert refused.status_code == 400
    assert refused.json()["error"]["type"] == "invalid_request_error"
    assert accepted.status_code == 200
    assert unversioned.status_code == 400
