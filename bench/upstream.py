"""A fast fake OpenAI-compatible upstream: raw asyncio protocol, httptools parser, uvloop.

`POST /v1/chat/completions` answers a fixed small `chat.completion` (with `usage`), or with
`"stream": true` five SSE content chunks, a finish chunk, the usage chunk when
`stream_options.include_usage` is set, and `data: [DONE]`. Every event is written as its own
HTTP chunk (TCP_NODELAY is on under uvloop, so they leave as separate segments). Anything else
is a 404. Responses are prebuilt bytes: the upstream should cost next to nothing.

    python -m bench.upstream --port 9001
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any, cast

import httptools
import orjson
import uvloop

MODEL = "gpt-4o-mini"
CREATED = 1_700_000_000
COMPLETION_ID = "chatcmpl-bench"
WORDS = ("Hello", " from", " the", " fake", " upstream.")
USAGE = {
    "prompt_tokens": 12,
    "completion_tokens": len(WORDS),
    "total_tokens": 12 + len(WORDS),
    "prompt_tokens_details": {"cached_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0},
}


def completion_body() -> bytes:
    return orjson.dumps(
        {
            "id": COMPLETION_ID,
            "object": "chat.completion",
            "created": CREATED,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(WORDS)},
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
        }
    )


def _chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> bytes:
    payload: dict[str, Any] = {
        "id": COMPLETION_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "choices": choices,
    }
    if usage is not None:
        payload["usage"] = usage
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def stream_events(include_usage: bool) -> list[bytes]:
    """The SSE events of one streamed answer, each a complete `data: ...\\n\\n` event."""
    events = [
        _chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}]),
        *(_chunk([{"index": 0, "delta": {"content": word}}]) for word in WORDS),
        _chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
    ]
    if include_usage:
        events.append(_chunk([], USAGE))
    events.append(b"data: [DONE]\n\n")
    return events


def _http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _head(status: bytes, content_type: bytes, length: int | None) -> bytes:
    framing = b"transfer-encoding: chunked" if length is None else b"content-length: %d" % length
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: " + content_type + b"\r\n" + framing + b"\r\n"
        b"\r\n"
    )


_BODY = completion_body()
JSON_RESPONSE = _head(b"200 OK", b"application/json", len(_BODY)) + _BODY
_NOT_FOUND_BODY = b'{"error":{"message":"not found","type":"invalid_request_error"}}'
NOT_FOUND = _head(b"404 Not Found", b"application/json", len(_NOT_FOUND_BODY)) + _NOT_FOUND_BODY
BAD_REQUEST = _head(b"400 Bad Request", b"text/plain", 0)
_SSE_HEAD = _head(b"200 OK", b"text/event-stream", None)
STREAM_CHUNKS = {
    usage: [_http_chunk(e) for e in stream_events(usage)] + [b"0\r\n\r\n"]
    for usage in (False, True)
}
CHAT_PATH = b"/v1/chat/completions"


def _wants_stream(body: bytes) -> tuple[bool, bool]:
    """(stream, include_usage) from a request body; a malformed body counts as non-stream."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False, False
    if not isinstance(parsed, dict) or parsed.get("stream") is not True:
        return False, False
    options = parsed.get("stream_options")
    return True, isinstance(options, dict) and options.get("include_usage") is True


class UpstreamProtocol(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; answers synchronously when a request is complete."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            if self._transport is not None:
                self._transport.write(BAD_REQUEST)
                self._transport.close()

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        body = b"".join(self._body)
        path = self._url.partition(b"?")[0]
        self._url, self._body = b"", []
        if path != CHAT_PATH or self._parser.get_method() != b"POST":
            transport.write(NOT_FOUND)
        else:
            stream, include_usage = _wants_stream(body)
            if not stream:
                transport.write(JSON_RESPONSE)
            else:
                transport.write(_SSE_HEAD)
                for chunk in STREAM_CHUNKS[include_usage]:
                    transport.write(chunk)
        if not self._parser.should_keep_alive():
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(UpstreamProtocol, host, port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
