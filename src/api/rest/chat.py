"""OpenAI-format routes: `/v1/chat/completions`, `/v1/embeddings`, `/v1/models`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api.rest.bodies import (
    chat_messages,
    embedding_input,
    flag,
    optional_positive_int,
    read_json,
    required_str,
)
from api.rest.errors import from_provider, openai_error
from api.rest.gateway import (
    Gateway,
    answer,
    authenticate,
    authorize,
    client_secret,
    limit_rate,
    report_rate,
    run_once,
)
from domain.catalog.models import ModelKind
from domain.metering.request_bounds import chat_bound, embeddings_bound
from domain.providers import JSON
from domain.usecases.call_requests import CallKind, CallRequest, Streaming

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


async def chat_completions(request: Request) -> Response:
    return await answer(request, _chat, openai_error)


async def embeddings(request: Request) -> Response:
    return await answer(request, _embeddings, openai_error)


async def models(request: Request) -> Response:
    return await answer(request, _models, openai_error, call=False)


async def _chat(request: Request, gw: Gateway, rid: str) -> Response:
    caller = await authenticate(gw, client_secret(request))
    body = await read_json(request, gw.max_body_bytes)
    chat_messages(body)
    max_tokens = optional_positive_int(body, "max_completion_tokens", "max_tokens")
    choices = optional_positive_int(body, "n") or 1  # each choice bills its own output
    stream = flag(body, "stream")
    grant = await authorize(gw, caller, required_str(body, "model"), rid)
    bound = chat_bound(body, max_tokens, choices)
    call = CallRequest(CallKind.CHAT, body, bound)
    await limit_rate(request, gw, grant, bound)

    async def relay() -> Response:
        await gw.metering.hold_and_journal(grant, bound)
        if stream:
            streaming = await gw.calls.open_stream(grant, call, chunk_chars)
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            events = _openai_events(streaming, include_usage)
            headers = {**SSE_HEADERS, **answered_by(streaming.answered_by.model.id, rid)}
            return StreamingResponse(events, media_type="text/event-stream", headers=headers)
        done = await gw.calls.complete(grant, call)
        return json_response(done.body, done.answered_by.model.id, rid)

    return await run_once(request, gw, grant, body, stream, relay)


async def _embeddings(request: Request, gw: Gateway, rid: str) -> Response:
    caller = await authenticate(gw, client_secret(request))
    body = await read_json(request, gw.max_body_bytes)
    embedding_input(body)
    grant = await authorize(gw, caller, required_str(body, "model"), rid, ModelKind.EMBEDDING)
    bound = embeddings_bound(body["input"])
    call = CallRequest(CallKind.EMBEDDING, body, bound)
    await limit_rate(request, gw, grant, bound)

    async def relay() -> Response:
        await gw.metering.hold_and_journal(grant, bound)
        done = await gw.calls.complete(grant, call)
        return json_response(done.body, done.answered_by.model.id, rid)

    return await run_once(request, gw, grant, body, False, relay)


async def _models(request: Request, gw: Gateway, rid: str) -> Response:
    caller = await gw.metering.authenticate(client_secret(request))
    await report_rate(request, gw, caller.key)
    listed = [
        {"id": m.id, "object": "model", "created": 0, "owned_by": m.provider}
        for m in await gw.metering.allowed_models(caller)
        if gw.calls.can_serve(m)
    ]
    # The client's aliases too (its own over the agency's), owned by their target's provider.
    listed += [
        {"id": name, "object": "model", "created": 0, "owned_by": m.provider}
        for name, m in (await gw.metering.aliases_of(caller)).items()
        if gw.calls.can_serve(m)
    ]
    return Response(
        orjson.dumps({"object": "list", "data": listed}),
        media_type="application/json",
        headers={"x-request-id": rid},
    )


def answered_by(model_id: str, rid: str) -> dict[str, str]:
    return {"x-bizgraph-model": model_id, "x-request-id": rid}


def json_response(body: JSON, model_id: str, rid: str) -> Response:
    body["model"] = model_id
    return Response(
        orjson.dumps(body), media_type="application/json", headers=answered_by(model_id, rid)
    )


async def _openai_events(streaming: Streaming, include_usage: bool) -> AsyncIterator[bytes]:
    """OpenAI SSE framing. The usage chunk Bizgraph asked for upstream is passed on only when
    the client asked for it too."""
    model_id = streaming.answered_by.model.id
    relay = streaming.relay
    async for chunk in relay:
        if not include_usage and not chunk.get("choices") and chunk.get("usage"):
            continue
        chunk["model"] = model_id
        yield b"data: " + orjson.dumps(chunk) + b"\n\n"
    if relay.outcome.error is not None:
        error = from_provider(relay.outcome.error)
        payload = {"error": {"message": error.message, "type": error.type, "code": error.code}}
        yield b"data: " + orjson.dumps(payload) + b"\n\n"
    yield b"data: [DONE]\n\n"


def chunk_chars(chunk: Any) -> int:
    """Generated characters in one chat chunk (for the estimate when usage never comes)."""
    total = 0
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") or {}
        content = delta.get("content")
        if isinstance(content, str):
            total += len(content)
        for call in delta.get("tool_calls") or ():
            arguments = (call.get("function") or {}).get("arguments")
            if isinstance(arguments, str):
                total += len(arguments)
    return total
