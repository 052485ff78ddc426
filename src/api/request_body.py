"""Reading request bodies, the one way every route does it: bounded while the body streams in
(a declared Content-Length over the limit is refused before reading, a chunked body as soon as
it passes the limit, so a client never makes the process hold more than the limit), and JSON
parsed as UTF-8 with its nesting bounded before anything recursive walks it. Each route words
a `BodyRefused` in its own error format."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

# Deeper than any request a client needs (chat messages with tool calls nest about 6 levels);
# far below where orjson's encoder (254) or Python's recursion limit would fail.
MAX_JSON_DEPTH = 64


class BodyRefused(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def too_large(max_bytes: int) -> BodyRefused:
    return BodyRefused(413, f"the request body exceeds {max_bytes} bytes", "request_too_large")


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, never more than `max_bytes` of it held."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise too_large(max_bytes)
            chunks.append(chunk)
    except ClientDisconnect:
        raise BodyRefused(400, "the client disconnected mid-body", "client_disconnected") from None
    return b"".join(chunks)


def parse_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value of a UTF-8 body, at most `max_depth` arrays and objects deep."""
    try:
        value = orjson.loads(body)  # iterative, refuses invalid UTF-8 and >1024 levels
    except orjson.JSONDecodeError as error:
        if "depth limit" in str(error):
            raise _too_deep(max_depth) from None
        raise BodyRefused(400, "the request body is not valid UTF-8 JSON", "invalid_json") from None
    # A body with fewer brackets than the limit cannot nest deeper: no walk for most bodies.
    if body.count(b"[") + body.count(b"{") > max_depth and _deeper(value, max_depth):
        raise _too_deep(max_depth)
    return value


async def read_json(request: Request, max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> Any:
    return parse_json(await read_body(request, max_bytes), max_depth)


def _too_deep(max_depth: int) -> BodyRefused:
    message = f"the request body nests arrays and objects deeper than {max_depth} levels"
    return BodyRefused(400, message, "too_deeply_nested")


def _deeper(value: object, room: int) -> bool:
    """Whether `value` nests more than `room` containers; recursion never exceeds `room`."""
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return False
    if room == 0:
        return True
    for child in children:
        if (type(child) is dict or type(child) is list) and _deeper(child, room - 1):
            return True
    return False
