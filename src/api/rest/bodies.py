"""Reading and checking `/v1` request bodies: JSON objects (read by api/request_body.py:
bounded while streaming, nesting bounded), the fields we rely on."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from api import request_body
from api.rest.errors import ApiError
from domain.providers import JSON


async def read_json(request: Request, max_bytes: int) -> JSON:
    try:
        body = await request_body.read_json(request, max_bytes)
    except request_body.BodyRefused as refused:
        raise ApiError(refused.status, refused.message, code=refused.code) from None
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


def required_str(body: JSON, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"'{name}' is required and must be a string", code="invalid_value")
    return value


def required_list(body: JSON, name: str) -> list[Any]:
    value = body.get(name)
    if not isinstance(value, list) or not value:
        raise ApiError(400, f"'{name}' must be a non-empty array", code="invalid_value")
    return value


CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function")


def chat_messages(body: JSON) -> list[Any]:
    """OpenAI chat `messages`: objects with a known role, checked here so the caller gets a
    400 naming the message rather than the provider's refusal (or a translation's)."""
    messages = required_list(body, "messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ApiError(
                400, f"messages[{index}] must be an object", code="invalid_type", param="messages"
            )
        role = message.get("role")
        if not isinstance(role, str) or role not in CHAT_ROLES:
            raise ApiError(
                400,
                f"messages[{index}].role must be one of {', '.join(CHAT_ROLES)}",
                code="invalid_value",
                param=f"messages[{index}].role",
            )
    return messages


def embedding_input(body: JSON) -> Any:
    """OpenAI embeddings `input`: a string, a list of strings, a token array or a list of
    token arrays, non-empty."""
    value = body.get("input")
    if value in (None, "", []):
        raise ApiError(400, "'input' is required", code="invalid_value", param="input")
    if isinstance(value, str) or _tokens(value):
        return value
    if isinstance(value, list) and all(isinstance(v, str) or _tokens(v) for v in value):
        return value
    raise ApiError(
        400,
        "'input' must be a string, a list of strings, a token array or a list of token arrays",
        code="invalid_type",
        param="input",
    )


def _tokens(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(t, int) and not isinstance(t, bool) for t in value)
    )


def optional_positive_int(body: JSON, *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ApiError(400, f"'{name}' must be a positive integer", code="invalid_value")
        return value
    return None


def flag(body: JSON, name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ApiError(400, f"'{name}' must be a boolean", code="invalid_value")
    return value
