"""OpenAI's Responses API, `POST /v1/responses`, so `client.responses.create(...)` and
`client.responses.stream(...)` of the official SDK work unchanged (docs/responses.md).

OpenAI models are relayed natively when the upstream serves `/responses` (OPENAI_RESPONSES_API);
every other model is reached through the OpenAI chat format its provider port speaks and
translated back (responses_format.py). The gateway keeps no response state (and asks OpenAI to
keep none), so there is no GET or DELETE.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api.rest.bodies import flag, optional_positive_int, read_json, required_str
from api.rest.chat import SSE_HEADERS, answered_by, chunk_chars
from api.rest.errors import ApiError, from_provider, openai_error
from api.rest.gateway import (
    Gateway,
    answer,
    authenticate,
    authorize,
    client_secret,
    limit_rate,
    run_once,
)
from api.rest.responses_format import (
    ChatToResponsesStream,
    Event,
    chat_to_response,
    check_native,
    responses_to_chat_request,
)
from domain.metering.request_bounds import responses_bound
from domain.usecases.call_requests import CallKind, CallRequest, Streaming


async def create_response(request: Request) -> Response:
    return await answer(request, _responses, openai_error)


async def stored_response(request: Request) -> Response:
    """`GET`/`DELETE /v1/responses/{id}` (and `/input_items`, `/cancel`): nothing is stored."""
    return await answer(request, _not_stored, openai_error, call=False)


async def _not_stored(request: Request, gw: Gateway, rid: str) -> Response:
    await gw.metering.authenticate(client_secret(request))
    raise ApiError(
        404,
        "this gateway does not store responses (nor asks OpenAI to): there is nothing to "
        "retrieve, list, cancel or delete; keep the Response you received",
        code="response_not_stored",
    )


async def _responses(request: Request, gw: Gateway, rid: str) -> Response:
    caller = await authenticate(gw, client_secret(request))
    body = await read_json(request, gw.max_body_bytes)
    model = required_str(body, "model")
    max_tokens = optional_positive_int(body, "max_output_tokens")
    stream = flag(body, "stream")
    grant = await authorize(gw, caller, model, rid)
    native = gw.calls.speaks_responses(grant.target.model)
    if native:
        check_native(body)
        call = CallRequest(CallKind.RESPONSES, body, responses_bound(body, max_tokens))
    else:  # every type is checked here, before any state changes
        chat_body = responses_to_chat_request(body)
        call = CallRequest(CallKind.CHAT, chat_body, responses_bound(body, max_tokens))
    bound = call.bound  # the client's body: translation only reshapes it
    await limit_rate(request, gw, grant, bound)

    async def relay() -> Response:
        await gw.metering.hold_and_journal(grant, bound)
        if stream:
            streaming = await gw.calls.open_stream(
                grant, call, event_chars if native else chunk_chars
            )
            events = _native_events(streaming) if native else _events(streaming, body)
            headers = {**SSE_HEADERS, **answered_by(streaming.answered_by.model.id, rid)}
            return StreamingResponse(events, media_type="text/event-stream", headers=headers)
        done = await gw.calls.complete(grant, call)
        answered = done.answered_by.model.id
        result = done.body if native else chat_to_response(done.body, body, answered)
        result["model"] = answered
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


async def _native_events(streaming: Streaming) -> AsyncIterator[bytes]:
    """The provider's events as sent, the model named as the catalog names it."""
    model_id = streaming.answered_by.model.id
    sequence = 0
    async for name, data in streaming.relay:
        response = data.get("response")
        if isinstance(response, dict) and "model" in response:
            response["model"] = model_id
        if isinstance(data.get("sequence_number"), int):
            sequence = data["sequence_number"] + 1
        yield _sse([(name, data)])
    error = streaming.relay.outcome.error
    if error is not None:
        api_error = from_provider(error)
        failure = {
            "type": "error",
            "code": api_error.code,
            "message": api_error.message,
            "param": None,
            "sequence_number": sequence,
        }
        yield _sse([("error", failure)])


def event_chars(event: Any) -> int:
    """Generated characters in one Responses stream event (text and function arguments)."""
    _, data = event
    if data.get("type") in ("response.output_text.delta", "response.function_call_arguments.delta"):
        delta = data.get("delta")
        return len(delta) if isinstance(delta, str) else 0
    return 0
