"""GeminiProvider against the strict fake Gemini over real loopback HTTP."""

from __future__ import annotations

import base64
import socket
import struct
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from adapters.providers.gemini import GeminiProvider
from adapters.providers.http import Timeouts
from domain.catalog.models import Model, ModelKind
from domain.metering.tokens import TokenUsage
from domain.providers import ChatStream, ProviderError, ProviderFailure
from tests.support.servers import serve_in_thread
from tests.upstreams.gemini_fake import GeminiScript, gemini_fake_app

JSON = dict[str, Any]
FAST = Timeouts(connect=2.0, first_byte=2.0, idle=2.0, total=10.0)
CHAT = Model(id="google/gemini-2.5-flash", provider="google", upstream_name="gemini-2.5-flash")
EMBED = Model(
    id="google/gemini-embedding-001",
    provider="google",
    upstream_name="gemini-embedding-001",
    kind=ModelKind.EMBEDDING,
)
HELLO = {"model": "google/gemini-2.5-flash", "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture
def gemini_script() -> GeminiScript:
    return GeminiScript()


@pytest.fixture
def gemini_url(gemini_script: GeminiScript) -> Iterator[str]:
    with serve_in_thread(gemini_fake_app(gemini_script)) as root:
        yield root


@pytest.fixture
async def gemini(gemini_url: str, gemini_script: GeminiScript) -> AsyncIterator[GeminiProvider]:
    adapter = GeminiProvider("gemini", gemini_url, gemini_script.api_key, FAST)
    yield adapter
    await adapter.aclose()


async def drain(stream: ChatStream) -> list[JSON]:
    try:
        return [chunk async for chunk in stream]
    finally:
        await stream.aclose()


def content_of(chunks: list[JSON]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def assert_key_never_leaked(error: BaseException, key: str) -> None:
    current: BaseException | None = error
    while current is not None:
        assert key not in str(current)
        assert key not in repr(current.args)
        current = current.__cause__ or current.__context__
    if isinstance(error, ProviderError):
        assert key not in repr(error.body)


# --- chat ------------------------------------------------------------------------------------


async def test_chat_translates_both_ways_and_parses_usage(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    body = {
        **HELLO,
        "messages": [{"role": "system", "content": "Be brief."}, *HELLO["messages"]],
        "max_tokens": 50,
    }
    response = await gemini.chat(CHAT, body)
    assert response.body["object"] == "chat.completion"
    assert response.body["model"] == "google/gemini-2.5-flash"
    assert response.body["choices"][0]["message"]["content"] == gemini_script.reply
    assert response.body["choices"][0]["finish_reason"] == "stop"
    assert response.usage == TokenUsage(input_tokens=12, output_tokens=7)
    assert response.body["usage"]["total_tokens"] == 19
    sent = gemini_script.last
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.body == {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"maxOutputTokens": 50},
    }


async def test_the_key_goes_only_in_the_header(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    await gemini.chat(CHAT, HELLO)
    await drain(await gemini.open_chat_stream(CHAT, HELLO))
    await gemini.embed(EMBED, {"input": "x"})
    assert len(gemini_script.requests) == 3
    for request in gemini_script.requests:
        assert request.header("x-goog-api-key") == gemini_script.api_key
        assert "key=" not in request.query
        assert gemini_script.api_key not in request.path + request.query
        names = {name for name, _ in request.headers}
        assert "authorization" not in names
        assert "cookie" not in names
        assert gemini_script.api_key not in str(request.body)


def test_the_fake_refuses_a_key_in_the_url(gemini_url: str, gemini_script: GeminiScript) -> None:
    """Proves the header test above can fail: a `?key=` caller is turned away."""
    answer = httpx.post(
        f"{gemini_url}/v1beta/models/gemini-2.5-flash:generateContent?key={gemini_script.api_key}",
        json={"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
        headers={"x-goog-api-key": gemini_script.api_key},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"


async def test_thoughts_are_reasoning_billed_on_top_of_candidates(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    gemini_script.thoughts_tokens = 40
    gemini_script.cached_tokens = 8
    response = await gemini.chat(CHAT, HELLO)
    assert response.usage == TokenUsage(
        input_tokens=12, cached_input_tokens=8, output_tokens=47, reasoning_tokens=40
    )
    usage = response.body["usage"]
    assert usage["completion_tokens"] == 47
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 40}
    assert usage["prompt_tokens_details"] == {"cached_tokens": 8}


async def test_tool_use_prompt_tokens_count_as_input(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    gemini_script.tool_use_prompt_tokens = 30
    response = await gemini.chat(CHAT, HELLO)
    assert response.usage is not None
    assert response.usage.input_tokens == 42


async def test_no_usage_metadata_means_no_usage(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    gemini_script.usage = False
    response = await gemini.chat(CHAT, HELLO)
    assert response.usage is None
    assert "usage" not in response.body


async def test_tool_calls_round_trip_through_the_strict_fake(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    gemini_script.reply = ""
    gemini_script.function_call = {"name": "get_weather", "args": {"city": "Paris"}}
    gemini_script.thought_signature = "c2lnbmF0dXJl"
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                    "additionalProperties": False,
                },
            },
        }
    ]
    first = await gemini.chat(CHAT, {**HELLO, "tools": tools, "tool_choice": "auto"})
    choice = first.body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert call["id"].startswith("call_")
    assert gemini_script.last.body["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"

    gemini_script.function_call = None
    gemini_script.reply = "It is sunny."
    follow_up = {
        **HELLO,
        "tools": tools,
        "messages": [
            *HELLO["messages"],
            choice["message"],
            {"role": "tool", "tool_call_id": call["id"], "content": "sunny, 24C"},
        ],
    }
    second = await gemini.chat(CHAT, follow_up)
    assert second.body["choices"][0]["message"]["content"] == "It is sunny."
    sent = gemini_script.last.body["contents"]
    assert sent[1] == {
        "role": "model",
        "parts": [
            {
                "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                "thoughtSignature": "c2lnbmF0dXJl",
            }
        ],
    }
    assert sent[2]["parts"][0]["functionResponse"] == {
        "name": "get_weather",
        "response": {"content": "sunny, 24C"},
    }


async def test_an_image_is_sent_as_inline_data(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    png = base64.b64encode(b"\x89PNG\r\n").decode()
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
    ]
    await gemini.chat(CHAT, {**HELLO, "messages": [{"role": "user", "content": content}]})
    parts = gemini_script.last.body["contents"][0]["parts"]
    assert parts[1] == {"inlineData": {"mimeType": "image/png", "data": png}}


# --- streaming -------------------------------------------------------------------------------


async def test_a_stream_relays_content_and_keeps_the_last_cumulative_usage(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    gemini_script.reply = "One two three four five six"
    gemini_script.chunks = 4
    gemini_script.output_tokens = 9  # cumulative reports 3, 5, 7, 9: their sum would be 24
    gemini_script.thoughts_tokens = 5
    stream = await gemini.open_chat_stream(CHAT, HELLO)
    chunks = await drain(stream)
    assert gemini_script.last.query == "alt=sse"
    assert gemini_script.last.path.endswith(":streamGenerateContent")
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert content_of(chunks) == "One two three four five six"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 14
    assert stream.usage == TokenUsage(input_tokens=12, output_tokens=14, reasoning_tokens=5)
    assert {c["id"] for c in chunks} == {"chatcmpl-fakeResp01"}


async def test_a_stream_framed_with_crlf_is_read_the_same(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    gemini_script.crlf = True
    gemini_script.chunks = 3
    stream = await gemini.open_chat_stream(CHAT, HELLO)
    assert content_of(await drain(stream)) == gemini_script.reply
    assert stream.usage == TokenUsage(input_tokens=12, output_tokens=7)


async def test_a_stream_without_usage_ends_with_usage_none(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    gemini_script.usage = False
    gemini_script.chunks = 2
    stream = await gemini.open_chat_stream(CHAT, HELLO)
    chunks = await drain(stream)
    assert stream.usage is None
    assert all(c["choices"] for c in chunks)


async def test_a_streamed_tool_call(gemini: GeminiProvider, gemini_script: GeminiScript) -> None:
    gemini_script.reply = ""
    gemini_script.function_call = {"name": "lookup", "args": {"q": "x"}}
    chunks = await drain(await gemini.open_chat_stream(CHAT, HELLO))
    calls = [
        d["tool_calls"]
        for c in chunks
        if c["choices"]
        if (d := c["choices"][0]["delta"]).get("tool_calls")
    ]
    assert calls[0][0]["function"] == {"name": "lookup", "arguments": '{"q":"x"}'}
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"


async def test_a_dropped_stream_fails_with_the_usage_reported_so_far(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    gemini_script.reply = "abcdefgh"
    gemini_script.chunks = 4
    gemini_script.output_tokens = 8
    gemini_script.break_after = 2
    stream = await gemini.open_chat_stream(CHAT, HELLO)
    received: list[JSON] = []

    async def consume() -> None:
        async for chunk in stream:
            received.append(chunk)

    with pytest.raises(ProviderError) as caught:
        await consume()
    assert content_of(received) == "abcd"
    assert caught.value.failure is ProviderFailure.CONNECTION
    assert caught.value.usage == TokenUsage(input_tokens=12, output_tokens=4)
    assert stream.usage == TokenUsage(input_tokens=12, output_tokens=4)
    await stream.aclose()  # safe twice
    assert_key_never_leaked(caught.value, gemini_script.api_key)


async def test_an_in_band_stream_error_keeps_its_status(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    gemini_script.chunks = 3
    gemini_script.stream_error = {"error": {"code": 500, "message": "boom", "status": "INTERNAL"}}
    stream = await gemini.open_chat_stream(CHAT, HELLO)
    with pytest.raises(ProviderError) as caught:
        await drain(stream)
    assert caught.value.status == 500
    assert caught.value.triggers_fallback
    assert caught.value.usage is not None


async def test_a_silent_stream_times_out(gemini_url: str, gemini_script: GeminiScript) -> None:
    gemini_script.chunks = 3
    gemini_script.chunk_delay = 1.5
    adapter = GeminiProvider(
        "gemini", gemini_url, gemini_script.api_key, Timeouts(connect=2, first_byte=2, idle=0.3)
    )
    try:
        stream = await adapter.open_chat_stream(CHAT, HELLO)
        with pytest.raises(ProviderError) as caught:
            await drain(stream)
        assert caught.value.failure is ProviderFailure.TIMEOUT
    finally:
        await adapter.aclose()


async def test_silence_before_the_first_event_fails_the_open(
    gemini_url: str, gemini_script: GeminiScript
) -> None:
    """Nothing reached the client yet, so the failure surfaces where a fallback can act."""
    gemini_script.first_event_delay = 1.5
    adapter = GeminiProvider(
        "gemini", gemini_url, gemini_script.api_key, Timeouts(connect=2, first_byte=0.3, idle=5)
    )
    try:
        with pytest.raises(ProviderError) as caught:
            await adapter.open_chat_stream(CHAT, HELLO)
        assert caught.value.failure is ProviderFailure.TIMEOUT
        assert caught.value.triggers_fallback
    finally:
        await adapter.aclose()


# --- errors ----------------------------------------------------------------------------------


async def test_a_bad_request_keeps_googles_body_and_is_a_client_error(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    gemini_script.status = 400
    gemini_script.message = "Request contains an invalid argument."
    with pytest.raises(ProviderError) as caught:
        await gemini.chat(CHAT, HELLO)
    error = caught.value
    assert error.failure is ProviderFailure.STATUS
    assert error.status == 400
    assert error.is_client_error
    assert not error.triggers_fallback
    assert error.body == {
        "error": {
            "code": 400,
            "message": "Request contains an invalid argument.",
            "status": "INVALID_ARGUMENT",
        }
    }
    assert_key_never_leaked(error, gemini_script.api_key)


async def test_a_wrong_key_is_refused_without_leaking_it(gemini_url: str) -> None:
    secret = "AIza-wrong-key-that-must-not-leak"
    adapter = GeminiProvider("gemini", gemini_url, secret, FAST)
    try:
        for call in (adapter.chat(CHAT, HELLO), adapter.open_chat_stream(CHAT, HELLO)):
            with pytest.raises(ProviderError) as caught:
                await call
            assert caught.value.status == 400
            assert_key_never_leaked(caught.value, secret)
    finally:
        await adapter.aclose()


async def test_rate_limits_keep_retry_after(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    gemini_script.status = 429
    gemini_script.retry_after = "17"
    for call in (gemini.chat(CHAT, HELLO), gemini.open_chat_stream(CHAT, HELLO)):
        with pytest.raises(ProviderError) as caught:
            await call
        assert caught.value.status == 429
        assert caught.value.retry_after == "17"
        assert not caught.value.is_client_error
        assert caught.value.body is not None
        assert caught.value.body["error"]["status"] == "RESOURCE_EXHAUSTED"


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_trigger_fallback(
    gemini: GeminiProvider, gemini_script: GeminiScript, status: int
) -> None:
    gemini_script.status = status
    for call in (gemini.chat(CHAT, HELLO), gemini.open_chat_stream(CHAT, HELLO)):
        with pytest.raises(ProviderError) as caught:
            await call
        assert caught.value.status == status
        assert caught.value.triggers_fallback


async def test_a_slow_first_byte_times_out(gemini_url: str, gemini_script: GeminiScript) -> None:
    gemini_script.first_byte_delay = 2.0
    timeouts = Timeouts(connect=2.0, first_byte=0.3, idle=0.3, total=0.5)
    adapter = GeminiProvider("gemini", gemini_url, gemini_script.api_key, timeouts)
    try:
        for call in (adapter.chat(CHAT, HELLO), adapter.open_chat_stream(CHAT, HELLO)):
            with pytest.raises(ProviderError) as caught:
                await call
            assert caught.value.failure is ProviderFailure.TIMEOUT
            assert caught.value.triggers_fallback
            assert_key_never_leaked(caught.value, gemini_script.api_key)
    finally:
        await adapter.aclose()


async def test_connection_refused_is_a_connection_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = "AIza-unreachable-key"
    adapter = GeminiProvider("gemini", f"http://127.0.0.1:{port}", secret, FAST)
    try:
        with pytest.raises(ProviderError) as caught:
            await adapter.chat(CHAT, HELLO)
        assert caught.value.failure is ProviderFailure.CONNECTION
        assert_key_never_leaked(caught.value, secret)
    finally:
        await adapter.aclose()


@pytest.mark.parametrize(
    "name", ["gemini/../../v1/files", "gemini?alt=json", "gemini#x", "a\\b", "", "gem ini"]
)
async def test_unsafe_upstream_names_never_reach_the_network(
    gemini: GeminiProvider, gemini_script: GeminiScript, name: str
) -> None:
    model = Model(id="google/evil", provider="google", upstream_name=name)
    with pytest.raises(ProviderError):
        await gemini.chat(model, HELLO)
    assert gemini_script.requests == []


async def test_a_resource_style_name_is_accepted(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    model = Model(id="google/flash", provider="google", upstream_name="models/gemini-2.5-flash")
    await gemini.chat(model, HELLO)
    assert gemini_script.last.path == "/v1beta/models/gemini-2.5-flash:generateContent"


async def test_an_untranslatable_request_is_a_400_that_never_reaches_gemini(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    body = {**HELLO, "messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]}
    with pytest.raises(ProviderError) as caught:
        await gemini.chat(CHAT, body)
    assert caught.value.status == 400
    assert caught.value.is_client_error
    assert caught.value.body is not None
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    assert gemini_script.requests == []


# --- embeddings ------------------------------------------------------------------------------


async def test_embeddings_batch_and_estimate_usage(
    gemini: GeminiProvider, gemini_script: GeminiScript
) -> None:
    response = await gemini.embed(
        EMBED, {"model": "google/gemini-embedding-001", "input": ["hello", "hi"], "dimensions": 3}
    )
    assert gemini_script.last.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    data = response.body["data"]
    assert [d["embedding"] for d in data] == [[5.0, 0.0, 0.25], [2.0, 1.0, 0.25]]
    assert response.body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    assert response.usage == TokenUsage(input_tokens=3)


async def test_base64_embeddings_decode_to_the_same_vector(gemini: GeminiProvider) -> None:
    response = await gemini.embed(EMBED, {"input": "hello", "encoding_format": "base64"})
    raw = base64.b64decode(response.body["data"][0]["embedding"])
    assert struct.unpack(f"<{len(raw) // 4}f", raw) == (5.0, 0.0, 0.25, 0.25)
