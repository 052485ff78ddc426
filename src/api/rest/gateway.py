"""What the `/v1` routes share: the use cases, the request id, key extraction and the mapping of
every failure to the route's error format."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api.logs import note_call
from api.rest.errors import ApiError, from_domain
from api.rest.ratelimit_headers import RATE_HEADERS, rate_limit_headers
from domain.access.keys import ApiKey
from domain.catalog.models import ModelKind
from domain.errors import (
    BudgetExceeded,
    ClientSuspended,
    DomainError,
    InvalidApiKey,
    ModelNotAllowed,
)
from domain.metering.request_bounds import RequestBound
from domain.providers import JSON
from domain.telemetry import NO_TELEMETRY, Refusal, Telemetry
from domain.tracing import (
    ERROR_TYPE,
    GEN_AI_OPERATION,
    GEN_AI_PROVIDER,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_SYSTEM,
    NO_SPAN,
    NO_TRACER,
    Span,
    Tracer,
    error_type,
    gen_ai_provider,
)
from domain.usecases.calls import ModelCalls
from domain.usecases.grants import CallGrant
from domain.usecases.idempotency import IdempotencyUseCases
from domain.usecases.keys import Caller
from domain.usecases.metering import Metering
from domain.usecases.ratelimits import RateLimits

log = logging.getLogger("bizgraph.gateway")

ErrorRenderer = Callable[[ApiError, str], Response]


@dataclass(frozen=True, slots=True)
class Gateway:
    metering: Metering
    calls: ModelCalls
    idempotency: IdempotencyUseCases
    max_body_bytes: int
    rate_limits: RateLimits
    tracer: Tracer = field(default=NO_TRACER)
    telemetry: Telemetry = NO_TELEMETRY


# The span of the model call this task is answering (set by `answer`, read by the helpers below,
# so route handlers need not pass it around).
_CALL_SPAN: ContextVar[Span] = ContextVar("bizgraph_call_span", default=NO_SPAN)


async def authenticate(gw: Gateway, secret: str) -> Caller:
    """The caller of a key, under the call's `auth` span."""
    return await gw.metering.authenticate(secret, _CALL_SPAN.get())


async def authorize(
    gw: Gateway,
    caller: Caller,
    model: str,
    rid: str,
    kind: ModelKind = ModelKind.CHAT,
    default_provider: str | None = None,
) -> CallGrant:
    """The grant for a call, refused before any provider is involved if the model is of
    another kind than the route serves or its provider is not configured here. `model` may be
    an alias (domain/catalog/aliases.py): the grant is then its target's."""
    span = _CALL_SPAN.get()
    grant = await gw.metering.authorize(caller, model, rid, span, default_provider)
    if span.recording:
        _describe_call(span, grant, kind)
    note_call(grant.client.id, grant.target.model.id)  # for JSON log lines, refusals included
    found = grant.target.model.kind
    if found is not kind:
        where = "/v1/embeddings" if found is ModelKind.EMBEDDING else "/v1/chat/completions"
        raise ApiError(
            400,
            f"{grant.target.model.id} is a {found.value} model, not a {kind.value} model: "
            f"call it on {where}",
            code="model_kind_mismatch",
            param="model",
        )
    if not gw.calls.can_serve(grant.target.model):
        raise ApiError(
            503,
            f"the provider of {grant.target.model.id} is not configured on this gateway",
            "server_error",
            "provider_not_configured",
        )
    return grant


async def limit_rate(request: Request, gw: Gateway, grant: CallGrant, bound: RequestBound) -> None:
    """Admit the call under its key's rate limits (its prompt estimate plus the output it asks
    for, n choices included, as OpenAI counts); the `x-ratelimit-*` headers go on the response,
    whatever it turns out to be (added by `answer`)."""
    output = bound.requested_output(grant.target.model)
    admission = await gw.rate_limits.admit(grant.key, bound.prompt_chars, output)
    if admission is None:
        return
    request.scope["state"][RATE_HEADERS] = rate_limit_headers(admission)
    if not admission.allowed:
        gw.telemetry.refused(Refusal.RATE_LIMIT)
        which = "requests" if admission.requests and admission.requests.remaining < 1 else "tokens"
        raise ApiError(
            429,
            f"Rate limit reached for this key ({which} per minute). "
            f"Retry after {admission.retry_after:.1f}s.",
            which,  # OpenAI's type for these: "requests" or "tokens"
            "rate_limit_exceeded",
            str(max(1, math.ceil(admission.retry_after))),
        )


async def report_rate(request: Request, gw: Gateway, key: ApiKey) -> None:
    """The `x-ratelimit-*` headers for a response that uses nothing (GET /v1/models)."""
    admission = await gw.rate_limits.admit(key, 0, 0, take=False)
    if admission is not None:
        request.scope["state"][RATE_HEADERS] = rate_limit_headers(admission)


def gateway(request: Request) -> Gateway:
    found: Gateway = request.app.state.gateway
    return found


def request_id(request: Request) -> str:
    """Set by RequestIdMiddleware; every response carries it as `x-request-id`."""
    rid: str = request.scope["state"]["request_id"]
    return rid


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def client_secret(request: Request, *, allow_x_api_key: bool = False) -> str:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if allow_x_api_key and request.headers.get("x-api-key"):
        return request.headers["x-api-key"].strip()
    raise ApiError(
        401, "Missing API key: send it as 'Authorization: Bearer bzk_...'.", code=MISSING_KEY
    )


def _describe_call(span: Span, grant: CallGrant, kind: ModelKind) -> None:
    """Name the call's span once its model is known: `{operation} {model}` (GenAI semantic
    conventions), the model as the client names it through the gateway."""
    model = grant.target.model
    operation = "embeddings" if kind is ModelKind.EMBEDDING else "chat"
    provider = gen_ai_provider(model.provider)
    span.rename(f"{operation} {model.id}")
    span.set(GEN_AI_OPERATION, operation)
    span.set(GEN_AI_REQUEST_MODEL, model.id)
    span.set(GEN_AI_PROVIDER, provider)
    span.set(GEN_AI_SYSTEM, provider)
    span.set("bizgraph.client.id", grant.client.id)


MISSING_KEY = "missing_api_key"


def _refusal(exc: DomainError) -> Refusal | None:
    """The refusal a domain error is, for metrics (None: a failure, not a refusal)."""
    match exc:
        case InvalidApiKey():
            return Refusal.AUTH
        case ClientSuspended():
            return Refusal.SUSPENDED
        case ModelNotAllowed():
            return Refusal.NOT_ALLOWED
        case BudgetExceeded():
            return Refusal.BUDGET
    return None


async def answer(
    request: Request,
    handler: Callable[[Request, Gateway, str], Awaitable[Response]],
    render_error: ErrorRenderer,
    *,
    call: bool = True,
) -> Response:
    """Run a route handler; turn expected failures into the API's error body and mask the rest
    (their details go to the log, which never holds request bodies or keys). A model `call`
    gets its span, continuing the caller's trace (`traceparent`); a stream's relay ends it."""
    rid = request_id(request)
    gw = gateway(request)
    span = gw.tracer.start_call("chat", request.headers) if call else NO_SPAN
    token = _CALL_SPAN.set(span)
    try:
        response = await handler(request, gw, rid)
    except ApiError as exc:
        if exc.code == MISSING_KEY:
            gw.telemetry.refused(Refusal.AUTH)
        response = render_error(exc, rid)
    except DomainError as exc:
        if (reason := _refusal(exc)) is not None:
            gw.telemetry.refused(reason)
        response = render_error(from_domain(exc), rid)
    except Exception:
        log.exception("unexpected error in %s (request %s)", request.url.path, rid)
        error = ApiError(500, "internal error", "server_error", "internal_error")
        response = render_error(error, rid)
    except BaseException as exc:  # cancelled: the client went away
        span.fail(error_type(exc))
        span.end()
        raise
    finally:
        _CALL_SPAN.reset(token)
    if span.recording:
        _answered(span, rid, response.status_code)
    span.end()
    response.headers.update(request.scope["state"].get(RATE_HEADERS, {}))
    return response


def _answered(span: Span, rid: str, status: int) -> None:
    """As HTTP server spans do: a 5xx is an error of the gateway's; a 4xx, the client's."""
    span.set("bizgraph.request.id", rid)
    span.set("http.response.status_code", status)
    if status >= 500:
        span.fail(str(status))
    elif status >= 400:
        span.set(ERROR_TYPE, str(status))


async def run_once(
    request: Request,
    gw: Gateway,
    grant: CallGrant,
    body: JSON,
    streamed: bool,
    relay: Callable[[], Awaitable[Response]],
) -> Response:
    """Run the call, honouring the client's `Idempotency-Key`: the same key and body is billed
    once; a stored answer is replayed; a failed call releases the key for a retry."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return await relay()
    client_id = grant.client.id
    digest = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
    replay = await gw.idempotency.claim(client_id, key, digest, grant.request_id, streamed)
    if replay is not None:
        headers = {
            "idempotent-replayed": "true",
            "x-bizgraph-original-request-id": replay.request_id,
        }
        return Response(replay.response, replay.status, headers, media_type="application/json")
    try:
        response = await relay()
    except BaseException:
        await asyncio.shield(gw.idempotency.release(client_id, key))
        raise
    if isinstance(response, StreamingResponse):
        await gw.idempotency.complete(client_id, key, None, None)
    else:
        await gw.idempotency.complete(client_id, key, response.status_code, bytes(response.body))
    return response
