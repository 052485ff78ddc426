"""Google's error body for every failure of `/v1beta/models/...`. The translation of Gemini's
native requests and answers (for models that are not Google's) and their shape checks are
`formats.gemini`, shared with the Gemini provider.
"""

from __future__ import annotations

from domain.providers import JSON

# Google's canonical status names (google.rpc.Code) by HTTP status.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    422: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")


def gemini_error_body(status: int, message: str) -> JSON:
    """Google's error body, which google-genai raises as ClientError / ServerError."""
    return {"error": {"code": status, "message": message, "status": status_name(status)}}
