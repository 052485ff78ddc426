"""Gemini's native API under `/v1beta/` and `/v1/`: `models/{model}:generateContent`,
`:streamGenerateContent?alt=sse`, `:countTokens`, `:embedContent`, `:batchEmbedContents`, so
the google-genai SDK works unchanged (docs/gemini.md).

Google models are relayed untranslated (the body goes upstream with only the model replaced);
any other model is reached through the OpenAI format and translated back (gemini_format.py).
The client's Bizgraph key comes in `x-goog-api-key` (as google-genai sends it), `?key=` or a
bearer token; it never goes upstream, and the access log masks `key=` (api/redaction.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api.rest.bodies import read_json
from api.rest.chat import SSE_HEADERS, answered_by, chunk_chars
from api.rest.errors import ApiError, from_provider
from api.rest.gateway import Gateway, answer, authenticate, authorize, limit_rate, run_once
from api.rest.gemini_format import gemini_error_body
from domain.catalog.models import ModelKind
from domain.errors import ValidationError
from domain.metering.request_bounds import gemini_bound, gemini_embeddings_bound
from domain.usecases.call_requests import CallKind, CallRequest, Streaming
from domain.usecases.grants import CallGrant
from domain.usecases.keys import Caller
from formats.gemini.answers import openai_to_gemini_embeddings, openai_to_gemini_response
from formats.gemini.checks import check_generate, embed_requests
from formats.gemini.streams import OpenAIToGeminiStream
from formats.gemini.to_chat import embeddings_to_openai_request, gemini_to_openai_request

_METHODS = (
    "generateContent",
    "streamGenerateContent",
    "countTokens",
    "embedContent",
    "batchEmbedContents",
)


def gemini_error(error: ApiError, request_id: str) -> Response:
    body = gemini_error_body(error.status, error.message)
    headers = {"x-request-id": request_id}
    if error.retry_after:
        headers["retry-after"] = error.retry_after
    return Response(orjson.dumps(body), error.status, headers, media_type="application/json")


async def model_method(request: Request) -> Response:
    """`POST /v1beta/models/{model}:{method}` (the model may hold slashes: `demo/chat`)."""
    return await answer(request, _dispatch, gemini_error)


def _target(request: Request) -> tuple[str, str]:
    model, colon, method = str(request.path_params["target"]).rpartition(":")
    model = model.removeprefix("models/")
    if not colon or not model or method not in _METHODS:
        raise ApiError(
            404, f"no Gemini method {method or '(none)'!r} on this gateway", code="not_found"
        )
    return model, method


def gemini_secret(request: Request) -> str:
    """The Bizgraph key: `x-goog-api-key`, `?key=` or `Authorization: Bearer`."""
    for value in (request.headers.get("x-goog-api-key"), request.query_params.get("key")):
        if value and value.strip():
            return value.strip()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    raise ApiError(
        401, "Missing API key: send your Bizgraph key as 'x-goog-api-key'.", code="missing_api_key"
    )


async def _dispatch(request: Request, gw: Gateway, rid: str) -> Response:
    model, method = _target(request)
    caller = await authenticate(gw, gemini_secret(request))
    body = await read_json(request, gw.max_body_bytes)
    if method in ("embedContent", "batchEmbedContents"):
        return await _embed(request, gw, rid, caller, model, body, method == "batchEmbedContents")
    if method == "countTokens":
        return await _count_tokens(gw, rid, caller, model, body)
    stream = method == "streamGenerateContent"
    if stream and request.query_params.get("alt", "sse") != "sse":
        raise ApiError(
            400, "streamGenerateContent is served with alt=sse only", code="invalid_value"
        )
    return await _generate(request, gw, rid, caller, model, body, stream)


async def _authorize(
    gw: Gateway, caller: Caller, model: str, rid: str, kind: ModelKind = ModelKind.CHAT
) -> CallGrant:
    """A bare Gemini name (`gemini-2.5-flash`) is the client's alias of that name first, then
    the agency's, then Google's model (domain/catalog/aliases.py)."""
    try:
        return await authorize(gw, caller, model, rid, kind, default_provider="google")
    except ApiError as exc:
        if exc.code != "model_kind_mismatch":
            raise
        methods = ":embedContent" if kind is ModelKind.CHAT else ":generateContent"
        what = "an embedding" if kind is ModelKind.CHAT else "a chat"
        raise ApiError(400, f"{model} is {what} model: call it with {methods}") from None


async def _generate(
    request: Request, gw: Gateway, rid: str, caller: Caller, model: str, body: Any, stream: bool
) -> Response:
    max_tokens, candidates = _checked(lambda: check_generate(body))
    grant = await _authorize(gw, caller, model, rid)
    bound = gemini_bound(body, max_tokens, candidates)  # the client's body, whatever answers
    native = gw.calls.speaks_gemini(grant.target.model)
    sent = (
        body
        if native
        else _checked(lambda: gemini_to_openai_request(body, grant.target.model.id, stream))
    )
    call = CallRequest(CallKind.GEMINI if native else CallKind.CHAT, sent, bound)
    await limit_rate(request, gw, grant, bound)

    async def relay() -> Response:
        await gw.metering.hold_and_journal(grant, bound)
        if stream:
            streaming = await gw.calls.open_stream(
                grant, call, event_chars if native else chunk_chars
            )
            events = _native_events(streaming) if native else _translated_events(streaming)
            headers = {**SSE_HEADERS, **answered_by(streaming.answered_by.model.id, rid)}
            return StreamingResponse(events, media_type="text/event-stream", headers=headers)
        done = await gw.calls.complete(grant, call)
        model_id = done.answered_by.model.id
        out = done.body if native else openai_to_gemini_response(done.body, model_id)
        return _json(out, model_id, rid)

    return await run_once(request, gw, grant, _keyed(request, body), stream, relay)


async def _count_tokens(gw: Gateway, rid: str, caller: Caller, model: str, body: Any) -> Response:
    """Relayed to Google (free there, so not metered, held or rate-limited); for any other
    model, the gateway's own conservative count: the prompt bound its budget hold uses."""
    nested = body.get("generateContentRequest")
    request_body = nested if isinstance(nested, dict) else body
    _checked(lambda: check_generate(request_body))
    grant = await _authorize(gw, caller, model, rid)
    model_found = grant.target.model
    if gw.calls.speaks_gemini(model_found):
        counted = await gw.calls.count_tokens(model_found, body)
    else:
        bound = gemini_bound(request_body, None, 1)
        counted = {"totalTokens": bound.prompt_tokens(model_found)}
    return _json(counted, model_found.id, rid, with_model=False)


async def _embed(
    request: Request, gw: Gateway, rid: str, caller: Caller, model: str, body: Any, batch: bool
) -> Response:
    requests = _checked(lambda: embed_requests(body, batch))
    grant = await _authorize(gw, caller, model, rid, ModelKind.EMBEDDING)
    bound = gemini_embeddings_bound([r["content"] for r in requests])
    native = gw.calls.speaks_gemini(grant.target.model)
    if native:
        kind = CallKind.GEMINI_BATCH_EMBED if batch else CallKind.GEMINI_EMBED
        call = CallRequest(kind, body, bound)
    else:
        sent = _checked(lambda: embeddings_to_openai_request(requests, grant.target.model.id))
        call = CallRequest(CallKind.EMBEDDING, sent, bound)
    await limit_rate(request, gw, grant, bound)

    async def relay() -> Response:
        await gw.metering.hold_and_journal(grant, bound)
        done = await gw.calls.complete(grant, call)
        out = done.body if native else openai_to_gemini_embeddings(done.body, batch)
        return _json(out, done.answered_by.model.id, rid, with_model=False)

    return await run_once(request, gw, grant, _keyed(request, body), False, relay)


def _keyed(request: Request, body: Any) -> Any:
    """What an `Idempotency-Key` is bound to: the body and the model and method of the URL
    (the same body sent to another model is another request)."""
    return {"target": request.path_params["target"], "body": body}


def _checked(check: Any) -> Any:
    """A ValidationError in the body's shape is the client's 400, named by field."""
    try:
        return check()
    except ValidationError as exc:
        raise ApiError(400, exc.message, code="invalid_value") from None


def _json(body: Any, model_id: str, rid: str, *, with_model: bool = True) -> Response:
    if with_model and isinstance(body, dict):
        body["modelVersion"] = model_id
    return Response(
        orjson.dumps(body), media_type="application/json", headers=answered_by(model_id, rid)
    )


def _sse(event: Any) -> bytes:
    return b"data: " + orjson.dumps(event) + b"\r\n\r\n"


def _error_event(streaming: Streaming) -> bytes:
    assert streaming.relay.outcome.error is not None
    error = from_provider(streaming.relay.outcome.error)
    return _sse(gemini_error_body(error.status, error.message))


async def _native_events(streaming: Streaming) -> AsyncIterator[bytes]:
    model_id = streaming.answered_by.model.id
    async for event in streaming.relay:
        event["modelVersion"] = model_id
        yield _sse(event)
    if streaming.relay.outcome.error is not None:
        yield _error_event(streaming)


async def _translated_events(streaming: Streaming) -> AsyncIterator[bytes]:
    translator = OpenAIToGeminiStream(streaming.answered_by.model.id)
    async for chunk in streaming.relay:
        for event in translator.feed(chunk):
            yield _sse(event)
    if streaming.relay.outcome.error is not None:
        yield _error_event(streaming)
        return
    for event in translator.finish():
        yield _sse(event)


def event_chars(event: Any) -> int:
    """Generated characters in one Gemini stream event (text and function call arguments)."""
    total = 0
    for candidate in event.get("candidates") or ():
        content = candidate.get("content") if isinstance(candidate, dict) else None
        for part in (content or {}).get("parts") or ():
            if isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    total += len(part["text"])
                elif isinstance(part.get("functionCall"), dict):
                    total += len(orjson.dumps(part["functionCall"]))
    return total
