"""Anthropic's error format, for `/v1/messages`. The translation of its requests and answers
(for models that are not Anthropic's) is `formats.anthropic`, shared with the Anthropic provider.
"""

from __future__ import annotations

from domain.providers import JSON

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def anthropic_error_body(error_type: str, message: str) -> JSON:
    """Anthropic's error body, which its SDK maps to exception classes by HTTP status."""
    return {"type": "error", "error": {"type": error_type, "message": message}}


def anthropic_error_type(status: int) -> str:
    """The Anthropic error type for an HTTP status (`api_error` for any other 5xx)."""
    return _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
