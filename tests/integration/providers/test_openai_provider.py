"""The OpenAI-compatible adapter against a strict OpenAI fake served over real HTTP."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from adapters.providers.http import Timeouts
from adapters.providers.openai import OpenAICompatibleProvider
from domain.catalog.models import Model, ModelKind
from domain.metering.tokens import TokenUsage
from domain.providers import JSON, ProviderError, ProviderFailure
from tests.support.servers import serve_in_thread
from tests.upstreams.openai_fake import OpenAIScript, error_body, openai_fake_app, openai_usage

FAST = Timeouts(connect=2.0, first_byte=1.0, idle=1.0, total=1.5)
CHAT_MODEL = Model(id="openai/gpt-4o-mini", provider="openai", upstream_name="gpt-4o-mini")
EMBED_MODEL = Model(
    id="openai/text-embedding-3-small",
    provider="openai",
    upstream_name="text-embedding-3-small",
    kind=ModelKind.EMBEDDING,
)

CLIENT_KEY = "bzk_live_client_secret_should_never_travel"
EXPECTED_HEADER_NAMES = {
    "host",
    "content-type",
    "content-length",
    "accept",
    "accept-encoding",
    "authorization",
    "user-agent",
    "connection",
}


@pytest.fixture
def script() -> OpenAIScript:
    return OpenAIScript()


@pytest.fixture
def base_url(script: OpenAIScript) -> Iterator[str]:
    """The strict fake on a real loopback port; the adapter's base URL ends in /v1."""
    with serve_in_thread(openai_fake_app(script)) as root:
        yield f"{root}/v1"


@pytest.fixture
async def provider(base_url: str, script: OpenAIScript) -> AsyncIterator[OpenAICompatibleProvider]:
    adapter = OpenAICompatibleProvider("openai", base_url, script.api_key, FAST)
    yield adapter
    await adapter.aclose()


def chat_body(**extra: Any) -> JSON:
    return {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "Say hello"}],
        **extra,
    }


async def drain(stream: AsyncIterator[JSON]) -> list[JSON]:
    return [chunk async for chunk in stream]


async def collect(stream: AsyncIterator[JSON], into: list[JSON]) -> None:
    async for chunk in stream:
        into.append(chunk)


async def call(adapter: OpenAICompatibleProvider, streamed: bool) -> None:
    """One call to completion, streamed or not."""
    if not streamed:
        await adapter.chat(CHAT_MODEL, chat_body())
        return
    stream = await adapter.open_chat_stream(CHAT_MODEL, chat_body(stream=True))
    try:
        await drain(stream)
    finally:
        await stream.aclose()


def streamed_text(chunks: list[JSON]) -> str:
    return "".join(
        choice["delta"].get("content") or "" for chunk in chunks for choice in chunk["choices"]
    )


def free_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/v1"


# --------------------------------------------------------------------------- non-streamed


async def test_chat_relays_the_answer_and_parses_cached_and_reasoning_usage(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.usage = openai_usage(1200, 300, cached=1024, reasoning=256)

    response = await provider.chat(CHAT_MODEL, chat_body(temperature=0.2))

    assert response.body["choices"][0]["message"]["content"] == script.reply
    assert response.body["object"] == "chat.completion"
    assert response.usage == TokenUsage(
        input_tokens=1200, output_tokens=300, cached_input_tokens=1024, reasoning_tokens=256
    )
    sent = script.last.body
    assert sent is not None
    assert sent["model"] == "gpt-4o-mini"
    assert sent["temperature"] == 0.2
    assert "stream" not in sent
    assert "stream_options" not in sent


async def test_explicit_zero_usage_is_a_report(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.usage = openai_usage(0, 0)

    response = await provider.chat(CHAT_MODEL, chat_body())

    assert response.usage == TokenUsage()


async def test_missing_usage_is_none(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.usage = None

    response = await provider.chat(CHAT_MODEL, chat_body())

    assert response.usage is None


async def test_a_stream_request_sent_to_chat_is_sent_unstreamed(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    response = await provider.chat(
        CHAT_MODEL, chat_body(stream=True, stream_options={"include_usage": True})
    )

    assert response.body["object"] == "chat.completion"
    assert script.last.body is not None
    assert "stream" not in script.last.body


async def test_only_the_provider_key_is_sent_and_nothing_redirecting_is_forwarded(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    body = chat_body(
        api_base="http://169.254.169.254/latest",
        base_url="http://evil.example/v1",
        api_key=CLIENT_KEY,
        extra_headers={"authorization": f"Bearer {CLIENT_KEY}"},
        user="end-user-42",
    )

    await provider.chat(CHAT_MODEL, body)

    request = script.last
    assert request.path == "/v1/chat/completions"
    assert request.header("authorization") == f"Bearer {script.api_key}"
    assert [name for name, _ in request.headers].count("authorization") == 1
    assert {name for name, _ in request.headers} <= EXPECTED_HEADER_NAMES
    assert all(CLIENT_KEY not in value for _, value in request.headers)
    assert request.body is not None
    assert set(request.body) == {"model", "messages", "user"}
    # the caller's body is not mutated: the API layer still needs the client's own request
    assert body["model"] == "openai/gpt-4o-mini"
    assert body["api_key"] == CLIENT_KEY


async def test_no_key_sends_no_authorization(base_url: str, script: OpenAIScript) -> None:
    adapter = OpenAICompatibleProvider("ollama", base_url, None, FAST)
    try:
        with pytest.raises(ProviderError) as caught:
            await adapter.chat(CHAT_MODEL, chat_body())
    finally:
        await adapter.aclose()

    assert caught.value.status == 401
    assert script.last.header("authorization") is None


async def test_embeddings(provider: OpenAICompatibleProvider, script: OpenAIScript) -> None:
    script.usage = {"prompt_tokens": 9, "total_tokens": 9}

    response = await provider.embed(
        EMBED_MODEL, {"model": "openai/text-embedding-3-small", "input": ["a", "b"]}
    )

    assert [item["index"] for item in response.body["data"]] == [0, 1]
    assert response.usage == TokenUsage(input_tokens=9)
    assert script.last.path == "/v1/embeddings"
    assert script.last.body == {"model": "text-embedding-3-small", "input": ["a", "b"]}


# --------------------------------------------------------------------------- streamed


async def test_stream_relays_chunks_asks_for_usage_and_parses_it(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.usage = openai_usage(40, 6, cached=32, reasoning=2)

    stream = await provider.open_chat_stream(
        CHAT_MODEL, chat_body(stream=True, stream_options={"include_usage": False})
    )
    chunks = await drain(stream)
    await stream.aclose()

    assert streamed_text(chunks) == script.reply
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == script.usage
    assert stream.usage == TokenUsage(
        input_tokens=40, output_tokens=6, cached_input_tokens=32, reasoning_tokens=2
    )
    sent = script.last.body
    assert sent is not None
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["model"] == "gpt-4o-mini"
    assert script.last.header("accept") == "text/event-stream"


async def test_stream_without_usage_ends_with_usage_none(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.usage = None

    stream = await provider.open_chat_stream(CHAT_MODEL, chat_body(stream=True))
    chunks = await drain(stream)

    assert streamed_text(chunks) == script.reply
    assert stream.usage is None


async def test_stream_cut_short_cleanly_ends_with_usage_none(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.usage = None
    script.send_done = False

    stream = await provider.open_chat_stream(CHAT_MODEL, chat_body(stream=True))
    chunks = await drain(stream)

    assert streamed_text(chunks) == script.reply
    assert stream.usage is None


async def test_stream_explicit_zero_usage(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.usage = openai_usage(0, 0)

    stream = await provider.open_chat_stream(CHAT_MODEL, chat_body(stream=True))
    await drain(stream)

    assert stream.usage == TokenUsage()


async def test_usage_chunk_with_null_choices_is_normalised(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.null_usage_choices = True

    stream = await provider.open_chat_stream(CHAT_MODEL, chat_body(stream=True))
    chunks = await drain(stream)

    assert chunks[-1]["choices"] == []
    assert stream.usage == TokenUsage(input_tokens=12, output_tokens=7)


async def test_closing_early_ends_the_stream(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.reply = "one two three four"
    stream = await provider.open_chat_stream(CHAT_MODEL, chat_body(stream=True))

    first = await anext(stream)
    await stream.aclose()

    assert first["choices"][0]["delta"]["role"] == "assistant"
    assert await drain(stream) == []
    assert stream.usage is None


async def test_stream_dropped_midway_is_a_connection_failure(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.reply = "one two three four five six"
    script.break_after = 2

    stream = await provider.open_chat_stream(CHAT_MODEL, chat_body(stream=True))
    received: list[JSON] = []
    with pytest.raises(ProviderError) as caught:
        await collect(stream, received)
    await stream.aclose()
    await stream.aclose()  # safe twice

    assert caught.value.failure is ProviderFailure.CONNECTION
    assert streamed_text(received) == "one two"
    assert stream.usage is None


async def test_stream_event_that_is_not_json_is_a_bad_response(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.garbage = True

    stream = await provider.open_chat_stream(CHAT_MODEL, chat_body(stream=True))
    with pytest.raises(ProviderError) as caught:
        await drain(stream)

    assert caught.value.failure is ProviderFailure.BAD_RESPONSE


async def test_stream_inband_error_is_raised_with_its_body(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.stream_error = error_body("The server had an error while processing", "server_error")

    stream = await provider.open_chat_stream(CHAT_MODEL, chat_body(stream=True))
    with pytest.raises(ProviderError) as caught:
        await drain(stream)

    assert caught.value.failure is ProviderFailure.STATUS
    assert caught.value.status == 500
    assert caught.value.body == script.stream_error
    assert caught.value.triggers_fallback


async def test_inband_error_as_first_event_fails_before_the_stream_opens(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.stream_error = {"error": {"message": "overloaded", "type": "Overloaded", "code": 503}}
    script.stream_error_first = True

    with pytest.raises(ProviderError) as caught:
        await provider.open_chat_stream(CHAT_MODEL, chat_body(stream=True))

    assert caught.value.status == 503
    assert caught.value.triggers_fallback


async def test_stream_error_status_fails_before_the_stream_opens(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.status = 429
    script.retry_after = "3"

    with pytest.raises(ProviderError) as caught:
        await provider.open_chat_stream(CHAT_MODEL, chat_body(stream=True))

    assert caught.value.status == 429
    assert caught.value.retry_after == "3"


async def test_stream_first_byte_timeout(base_url: str, script: OpenAIScript) -> None:
    script.first_byte_delay = 3.0
    timeouts = Timeouts(connect=2.0, first_byte=0.3, idle=5.0, total=10.0)
    adapter = OpenAICompatibleProvider("openai", base_url, script.api_key, timeouts)
    try:
        with pytest.raises(ProviderError) as caught:
            await adapter.open_chat_stream(CHAT_MODEL, chat_body(stream=True))
    finally:
        await adapter.aclose()

    assert caught.value.failure is ProviderFailure.TIMEOUT


# --------------------------------------------------------------------------- failures


async def test_server_error(provider: OpenAICompatibleProvider, script: OpenAIScript) -> None:
    script.status = 500

    with pytest.raises(ProviderError) as caught:
        await provider.chat(CHAT_MODEL, chat_body())

    assert caught.value.failure is ProviderFailure.STATUS
    assert caught.value.status == 500
    assert caught.value.triggers_fallback
    assert not caught.value.is_client_error


async def test_rate_limit_keeps_retry_after(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.status = 429
    script.retry_after = "20"

    with pytest.raises(ProviderError) as caught:
        await provider.chat(CHAT_MODEL, chat_body())

    assert caught.value.status == 429
    assert caught.value.retry_after == "20"
    assert caught.value.body is not None
    assert caught.value.body["error"]["code"] == "rate_limit_exceeded"
    assert not caught.value.is_client_error


async def test_client_error_keeps_the_providers_body(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.status = 400
    script.error = error_body(
        "max_tokens is too large", "invalid_request_error", "invalid_value", "max_tokens"
    )

    with pytest.raises(ProviderError) as caught:
        await provider.chat(CHAT_MODEL, chat_body(max_tokens=10**7))

    assert caught.value.body == script.error
    assert caught.value.is_client_error
    assert not caught.value.triggers_fallback


async def test_strict_fake_rejects_what_the_adapter_should_never_send(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    """Guards the fake itself: an unknown key is a 400, so the stripping tests can fail."""
    with pytest.raises(ProviderError) as caught:
        await provider.chat(CHAT_MODEL, chat_body(not_an_openai_param=True))

    assert caught.value.status == 400
    assert caught.value.body is not None
    assert "not_an_openai_param" in caught.value.body["error"]["message"]


async def test_unstreamed_calls_time_out_at_the_total_deadline(
    base_url: str, script: OpenAIScript
) -> None:
    script.first_byte_delay = 3.0
    timeouts = Timeouts(connect=2.0, first_byte=0.3, idle=0.3, total=1.0)
    adapter = OpenAICompatibleProvider("openai", base_url, script.api_key, timeouts)
    try:
        with pytest.raises(ProviderError) as caught:
            await adapter.chat(CHAT_MODEL, chat_body())
    finally:
        await adapter.aclose()

    assert caught.value.failure is ProviderFailure.TIMEOUT
    assert caught.value.triggers_fallback


async def test_an_unstreamed_answer_may_be_silent_longer_than_idle(
    base_url: str, script: OpenAIScript
) -> None:
    script.first_byte_delay = 0.6  # a long generation: no byte until the answer is complete
    timeouts = Timeouts(connect=2.0, first_byte=0.2, idle=0.2, total=5.0)
    adapter = OpenAICompatibleProvider("openai", base_url, script.api_key, timeouts)
    try:
        answer = await adapter.chat(CHAT_MODEL, chat_body())
    finally:
        await adapter.aclose()

    assert answer.usage is not None


async def test_connection_refused() -> None:
    adapter = OpenAICompatibleProvider("openai", free_port_url(), "sk-x", FAST)
    try:
        with pytest.raises(ProviderError) as caught:
            await adapter.chat(CHAT_MODEL, chat_body())
    finally:
        await adapter.aclose()

    assert caught.value.failure is ProviderFailure.CONNECTION
    assert caught.value.triggers_fallback


async def test_garbage_body_is_a_bad_response(
    provider: OpenAICompatibleProvider, script: OpenAIScript
) -> None:
    script.garbage = True

    with pytest.raises(ProviderError) as caught:
        await provider.chat(CHAT_MODEL, chat_body())

    assert caught.value.failure is ProviderFailure.BAD_RESPONSE


SECRET_KEY = "sk-proj-SECRETSECRETSECRET"


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param({"status": 500}, id="500"),
        pytest.param({"status": 429, "retry_after": "1"}, id="429"),
        pytest.param({"status": 400}, id="400"),
        pytest.param({"garbage": True}, id="garbage"),
        pytest.param({"first_byte_delay": 2.0}, id="timeout"),
        pytest.param({"api_key": "sk-another"}, id="401"),
    ],
)
@pytest.mark.parametrize("streamed", [False, True], ids=["plain", "stream"])
async def test_error_messages_hold_no_key_and_no_url(
    base_url: str, script: OpenAIScript, setup: dict[str, Any], streamed: bool
) -> None:
    script.api_key = SECRET_KEY
    for name, value in setup.items():
        setattr(script, name, value)
    timeouts = Timeouts(connect=1.0, first_byte=0.3, idle=0.3, total=1.0)
    adapter = OpenAICompatibleProvider("openai", base_url, SECRET_KEY, timeouts)
    try:
        with pytest.raises(ProviderError) as caught:
            await call(adapter, streamed)
    finally:
        await adapter.aclose()

    text = f"{caught.value} {caught.value.message!r}"
    assert SECRET_KEY not in text
    assert "sk-" not in text
    assert "127.0.0.1" not in text
    assert base_url not in text


async def test_connection_error_message_holds_no_url() -> None:
    url = free_port_url()
    adapter = OpenAICompatibleProvider("openai", url, SECRET_KEY, FAST)
    try:
        with pytest.raises(ProviderError) as caught:
            await adapter.chat(CHAT_MODEL, chat_body())
    finally:
        await adapter.aclose()

    assert "127.0.0.1" not in str(caught.value)
    assert SECRET_KEY not in str(caught.value)
