"""Anthropic's native `POST /v1/messages`, so the Anthropic SDK works unchanged.

Anthropic models are relayed untranslated (prompt caching and thinking blocks survive); any
other model is reached through the OpenAI format and translated back (messages_format.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api.rest.bodies import flag, optional_positive_int, read_json, required_list, required_str
from api.rest.chat import SSE_HEADERS, answered_by, chunk_chars
from api.rest.errors import ApiError, anthropic_error, from_provider
from api.rest.gateway import (
    Gateway,
    answer,
    authenticate,
    authorize,
    client_secret,
    limit_rate,
    run_once,
)
from api.rest.messages_format import anthropic_error_body, anthropic_error_type
from domain.metering.request_bounds import messages_bound
from domain.usecases.call_requests import CallKind, CallRequest, Streaming
from formats.anthropic.answers import openai_to_anthropic_response
from formats.anthropic.streams import OpenAIToAnthropicStream
from formats.anthropic.to_chat import anthropic_to_openai_request


async def create_message(request: Request) -> Response:
    return await answer(request, _messages, anthropic_error)


async def _messages(request: Request, gw: Gateway, rid: str) -> Response:
    caller = await authenticate(gw, client_secret(request, allow_x_api_key=True))
    body = await read_json(request, gw.max_body_bytes)
    required_list(body, "messages")
    max_tokens = optional_positive_int(body, "max_tokens")
    if max_tokens is None:
        raise ApiError(400, "'max_tokens' is required", code="invalid_value")
    stream = flag(body, "stream")
    grant = await authorize(gw, caller, required_str(body, "model"), rid)
    bound = messages_bound(body, max_tokens)  # the client's body: translation only reshapes it
    native = gw.calls.speaks_messages(grant.target.model)
    call = CallRequest(
        kind=CallKind.MESSAGES if native else CallKind.CHAT,
        body=body if native else anthropic_to_openai_request(body),
        bound=bound,
    )
    await limit_rate(request, gw, grant, bound)

    async def relay() -> Response:
        await gw.metering.hold_and_journal(grant, bound)
        if stream:
            chars_of = event_chars if native else chunk_chars
            streaming = await gw.calls.open_stream(grant, call, chars_of)
            events = _native_events(streaming) if native else _translated_events(streaming)
            headers = {**SSE_HEADERS, **answered_by(streaming.answered_by.model.id, rid)}
            return StreamingResponse(events, media_type="text/event-stream", headers=headers)
        done = await gw.calls.complete(grant, call)
        answered = done.answered_by.model.id
        result = done.body if native else openai_to_anthropic_response(done.body, answered)
        result["model"] = answered
        return Response(
            orjson.dumps(result), media_type="application/json", headers=answered_by(answered, rid)
        )

    return await run_once(request, gw, grant, body, stream, relay)


def _sse(name: str, data: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _events(pairs: Iterable[tuple[str, Any]]) -> bytes:
    return b"".join(_sse(name, data) for name, data in pairs)


def _error_event(streaming: Streaming) -> bytes:
    error = streaming.relay.outcome.error
    if error is None:
        return b""
    api_error = from_provider(error)
    return _sse(
        "error", anthropic_error_body(anthropic_error_type(api_error.status), api_error.message)
    )


async def _native_events(streaming: Streaming) -> AsyncIterator[bytes]:
    async for name, data in streaming.relay:
        yield _sse(name, data)
    if streaming.relay.outcome.error is not None:
        yield _error_event(streaming)


async def _translated_events(streaming: Streaming) -> AsyncIterator[bytes]:
    translator = OpenAIToAnthropicStream(streaming.answered_by.model.id)
    async for chunk in streaming.relay:
        yield _events(translator.feed(chunk))
    if streaming.relay.outcome.error is not None:
        yield _error_event(streaming)
        return
    yield _events(translator.finish())


def event_chars(event: Any) -> int:
    """Generated characters in one Anthropic stream event (text, tool input, thinking)."""
    name, data = event
    if name != "content_block_delta":
        return 0
    delta = data.get("delta") or {}
    for field in ("text", "partial_json", "thinking"):
        value = delta.get(field)
        if isinstance(value, str):
            return len(value)
    return 0
