"""What the adapters' pooled upstream session does with connections, redirects, cookies and
compression, against a raw HTTP/1.1 server that records every connection and request."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import orjson
import pytest

from adapters.providers.openai import OpenAICompatibleProvider
from domain.catalog.models import Model
from domain.providers import JSON, ProviderError, ProviderFailure, Timeouts

MODEL = Model(id="openai/gpt-4o-mini", provider="openai", upstream_name="gpt-4o-mini")
BODY: JSON = {"model": MODEL.id, "messages": [{"role": "user", "content": "hi"}]}
TIMEOUTS = Timeouts(connect=2.0, first_byte=2.0, idle=2.0, total=10.0)
ANSWER = orjson.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1},
    }
)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def event(payload: JSON) -> bytes:
    return chunk(b"data: " + orjson.dumps(payload) + b"\n\n")


DELTA = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "x"}}]}


@dataclass
class Request:
    path: str
    headers: dict[str, str]


@dataclass
class RawUpstream:
    """Answers every request with `answer` (a whole response) or, when `stream` is set, with
    those bytes (the head and chunked events) and the last chunk; with `hold`, it sends no last
    chunk and waits for the client to close the connection."""

    answer: bytes = b""
    stream: list[bytes] = field(default_factory=list)
    hold: bool = False
    connections: int = 0
    requests: list[Request] = field(default_factory=list)
    closed_by_client: asyncio.Event = field(default_factory=asyncio.Event)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {
                    k.strip().lower(): v.strip()
                    for k, v in (line.split(":", 1) for line in lines[1:] if line)
                }
                await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(Request(lines[0].split(" ")[1], headers))
                if self.stream:
                    writer.write(b"".join(self.stream))
                    if self.hold:
                        await writer.drain()
                        await reader.read()  # b"" once the client closed its end
                        self.closed_by_client.set()
                        return
                    writer.write(chunk(b""))
                else:
                    writer.write(self.answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


def json_answer(body: bytes, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "content-type: application/json", f"content-length: {len(body)}"]
    return ("\r\n".join([*head, *extra]) + "\r\n\r\n").encode() + body


STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
)


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[RawUpstream, str]]:
    raw = RawUpstream()
    server = await asyncio.start_server(raw.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield raw, f"http://127.0.0.1:{port}/v1"


@pytest.fixture
async def provider(upstream: tuple[RawUpstream, str]) -> AsyncIterator[OpenAICompatibleProvider]:
    adapter = OpenAICompatibleProvider("openai", upstream[1], "sk-test", TIMEOUTS)
    yield adapter
    await adapter.aclose()


async def test_answers_reuse_one_pooled_connection(
    upstream: tuple[RawUpstream, str], provider: OpenAICompatibleProvider
) -> None:
    raw, _ = upstream
    raw.answer = json_answer(ANSWER)

    for _ in range(3):
        await provider.chat(MODEL, BODY)

    assert len(raw.requests) == 3
    assert raw.connections == 1


async def test_a_stream_read_to_its_end_returns_its_connection_to_the_pool(
    upstream: tuple[RawUpstream, str], provider: OpenAICompatibleProvider
) -> None:
    raw, _ = upstream
    raw.stream = [STREAM_HEAD, event(DELTA), event(DELTA), chunk(b"data: [DONE]\n\n")]

    for _ in range(2):
        stream = await provider.open_chat_stream(MODEL, {**BODY, "stream": True})
        assert len([c async for c in stream]) == 2
        await stream.aclose()

    assert raw.connections == 1


async def test_a_stream_closed_early_closes_its_upstream_connection(
    upstream: tuple[RawUpstream, str], provider: OpenAICompatibleProvider
) -> None:
    """What happens when the gateway's client disconnects: the relay closes the stream, and
    the upstream connection (which is mid-answer, so not reusable) is closed, not leaked."""
    raw, _ = upstream
    raw.stream = [STREAM_HEAD, event(DELTA), event(DELTA)]
    raw.hold = True

    stream = await provider.open_chat_stream(MODEL, {**BODY, "stream": True})
    await anext(stream)
    assert not raw.closed_by_client.is_set()
    await stream.aclose()

    await asyncio.wait_for(raw.closed_by_client.wait(), 10)


async def test_a_redirect_is_not_followed(
    upstream: tuple[RawUpstream, str], provider: OpenAICompatibleProvider
) -> None:
    raw, base_url = upstream
    raw.answer = json_answer(b"", f"location: {base_url}/elsewhere").replace(
        b"200 OK", b"307 Temporary Redirect"
    )

    with pytest.raises(ProviderError) as caught:
        await provider.chat(MODEL, BODY)

    assert caught.value.failure is ProviderFailure.BAD_RESPONSE
    assert [r.path for r in raw.requests] == ["/v1/chat/completions"]


async def test_no_cookie_set_upstream_is_sent_back(upstream: tuple[RawUpstream, str]) -> None:
    """Only what the adapter builds goes out, not what an upstream (or whoever answers on its
    address) asked to be sent back. By host name: cookies of bare IP addresses are never kept."""
    raw, base_url = upstream
    raw.answer = json_answer(ANSWER, "set-cookie: session=abc; Path=/")
    named = base_url.replace("127.0.0.1", "localhost")
    adapter = OpenAICompatibleProvider("openai", named, "sk-test", TIMEOUTS)
    try:
        await adapter.chat(MODEL, BODY)
        await adapter.chat(MODEL, BODY)
    finally:
        await adapter.aclose()

    assert len(raw.requests) == 2
    assert all("cookie" not in r.headers for r in raw.requests)


async def test_a_compressed_answer_is_decoded(
    upstream: tuple[RawUpstream, str], provider: OpenAICompatibleProvider
) -> None:
    raw, _ = upstream
    raw.answer = json_answer(gzip.compress(ANSWER), "content-encoding: gzip")

    answer = await provider.chat(MODEL, BODY)

    assert answer.body["choices"][0]["message"]["content"] == "hello"
    assert "gzip" in raw.requests[0].headers["accept-encoding"]
