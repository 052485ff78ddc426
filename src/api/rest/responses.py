"""OpenAI's Responses API, `POST /v1/responses`, so `client.responses.create(...)` and
`client.responses.stream(...)` of the official SDK work unchanged (docs/responses.md).

Every model is reached through the OpenAI chat format its provider port speaks and translated
back (responses_format.py); the gateway keeps no response state, so there is no GET or DELETE.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api.rest.bodies import flag, optional_positive_int, read_json, required_str
from api.rest.chat import SSE_HEADERS, answered_by, chunk_chars
from api.rest.errors import from_provider, openai_error
from api.rest.gateway import Gateway, answer, authorize, client_secret, limit_rate, run_once
from api.rest.responses_format import (
    ChatToResponsesStream,
    Event,
    chat_to_response,
    responses_to_chat_request,
)
from domain.request_bounds import responses_bound
from domain.usecases.calls import CallKind, CallRequest, Streaming


async def create_response(request: Request) -> Response:
    return await answer(request, _responses, openai_error)


async def _responses(request: Request, gw: Gateway, rid: str) -> Response:
    caller = await gw.metering.authenticate(client_secret(request))
    body = await read_json(request, gw.max_body_bytes)
    model = required_str(body, "model")
    max_tokens = optional_positive_int(body, "max_output_tokens")
    stream = flag(body, "stream")
    chat_body = responses_to_chat_request(body)  # every type checked before any state changes
    grant = await authorize(gw, caller, model, rid)
    bound = responses_bound(body, max_tokens)  # the client's body: translation only reshapes it
    call = CallRequest(CallKind.CHAT, chat_body, bound)
    await limit_rate(request, gw, grant, bound)

    async def relay() -> Response:
        await gw.metering.journal(grant, bound)
        if stream:
            streaming = await gw.calls.open_stream(grant, call, chunk_chars)
            events = _events(streaming, body)
            headers = {**SSE_HEADERS, **answered_by(streaming.answered_by.model.id, rid)}
            return StreamingResponse(events, media_type="text/event-stream", headers=headers)
        done = await gw.calls.complete(grant, call)
        answered = done.answered_by.model.id
        result = chat_to_response(done.body, body, answered)
        return Response(
            orjson.dumps(result), media_type="application/json", headers=answered_by(answered, rid)
        )

    return await run_once(request, gw, grant, body, stream, relay)


def _sse(events: list[Event]) -> bytes:
    return b"".join(
        b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
        for name, data in events
    )


async def _events(streaming: Streaming, body: dict[str, object]) -> AsyncIterator[bytes]:
    translator = ChatToResponsesStream(body, streaming.answered_by.model.id)
    yield _sse(translator.start())
    async for chunk in streaming.relay:
        if events := translator.feed(chunk):
            yield _sse(events)
    error = streaming.relay.outcome.error
    if error is not None:
        api_error = from_provider(error)
        code = "rate_limit_exceeded" if api_error.status == 429 else "server_error"
        yield _sse(translator.fail(code, api_error.message))
        return
    yield _sse(translator.finish())
