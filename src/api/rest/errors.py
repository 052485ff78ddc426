"""Errors on `/v1`: OpenAI's body `{"error": {"message", "type", "param", "code"}}` with the
status codes the official SDKs map to their exception classes; Anthropic's body on
`/v1/messages`. Messages are ours or the provider's own, never a credential or a traceback."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from starlette.responses import Response

from api.rest.messages_format import anthropic_error_body, anthropic_error_type
from domain.errors import (
    BudgetExceeded,
    BudgetUnavailable,
    ClientSuspended,
    DomainError,
    InvalidApiKey,
    ModelNotAllowed,
    NoPriceInForce,
    NotFound,
    StoreUnavailable,
    ValidationError,
    WriteConflict,
)
from domain.metering.idempotency import IdempotencyConflict
from domain.providers import ProviderError, ProviderFailure

STORE_RETRY_AFTER = "2"  # seconds: a database restart or a freed disk is usually that quick


@dataclass(frozen=True, slots=True)
class ApiError(Exception):
    status: int
    message: str
    type: str = "invalid_request_error"
    code: str | None = None
    retry_after: str | None = None
    param: str | None = None  # the request field at fault, as OpenAI names it


def from_domain(exc: DomainError) -> ApiError:
    match exc:
        case InvalidApiKey():
            return ApiError(401, "Invalid API key.", "invalid_request_error", "invalid_api_key")
        case ClientSuspended() | ModelNotAllowed():
            return ApiError(403, exc.message, "permission_error", exc.code)
        case BudgetExceeded():  # OpenAI's own shape for an exhausted quota
            return ApiError(429, exc.message, "insufficient_quota", "insufficient_quota")
        case BudgetUnavailable():
            return ApiError(503, exc.message, "server_error", exc.code, STORE_RETRY_AFTER)
        case StoreUnavailable() | WriteConflict():
            return ApiError(503, exc.message, "server_error", exc.code, STORE_RETRY_AFTER)
        case NotFound():
            return ApiError(404, exc.message, "invalid_request_error", exc.code)
        case NoPriceInForce():
            return ApiError(503, "this model has no price in force", "server_error", exc.code)
        case ProviderError():
            return from_provider(exc)
        case IdempotencyConflict():
            status = 422 if exc.reason == "body_mismatch" else 409
            return ApiError(
                status, exc.message, "invalid_request_error", f"idempotency_{exc.reason}"
            )
        case ValidationError():
            # A translation's refusal (domain ValidationError's generic code) is a bad value.
            code = "invalid_value" if exc.code == "validation_error" else exc.code
            return ApiError(400, exc.message, "invalid_request_error", code)
    return ApiError(400, exc.message, "invalid_request_error", exc.code)


def from_provider(exc: ProviderError) -> ApiError:
    if exc.failure is ProviderFailure.TIMEOUT:
        return ApiError(504, exc.message, "server_error", "upstream_timeout")
    if exc.status == 429:
        return ApiError(
            429, _provider_message(exc), "rate_limit_error", "rate_limit_exceeded", exc.retry_after
        )
    if exc.is_client_error and exc.status is not None:
        # The caller's request was refused by the provider: a client error, labelled with the
        # provider's own code when it gives one (OpenAI's `invalid_value`, say), never as if
        # the upstream had failed.
        return ApiError(
            exc.status,
            _provider_message(exc),
            "invalid_request_error",
            _provider_field(exc, "code") or "invalid_request",
            param=_provider_field(exc, "param"),
        )
    return ApiError(502, exc.message, "server_error", "upstream_error")


def _provider_field(exc: ProviderError, name: str) -> str | None:
    """A string field of the provider's error object (OpenAI's and Anthropic's bodies)."""
    error = (exc.body or {}).get("error")
    value = error.get(name) if isinstance(error, dict) else None
    return value if isinstance(value, str) and value else None


def _provider_message(exc: ProviderError) -> str:
    """The provider's own explanation of a client error, which helps the caller fix it."""
    return _provider_field(exc, "message") or exc.message


def openai_error(error: ApiError, request_id: str) -> Response:
    body = {
        "error": {
            "message": error.message,
            "type": error.type,
            "param": error.param,
            "code": error.code,
        }
    }
    return Response(
        orjson.dumps(body), error.status, _headers(error, request_id), media_type="application/json"
    )


def anthropic_error(error: ApiError, request_id: str) -> Response:
    body = anthropic_error_body(anthropic_error_type(error.status), error.message)
    body["request_id"] = request_id
    return Response(
        orjson.dumps(body), error.status, _headers(error, request_id), media_type="application/json"
    )


def _headers(error: ApiError, request_id: str) -> dict[str, str]:
    headers = {"x-request-id": request_id}
    if error.retry_after:
        headers["retry-after"] = error.retry_after
    return headers
