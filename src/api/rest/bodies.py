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


def text_chars(value: Any) -> int:
    """Characters of text in message content (strings, text parts, nested blocks)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(text_chars(item) for item in value)
    if isinstance(value, dict):
        return sum(text_chars(value[k]) for k in ("content", "text", "arguments") if k in value)
    return 0
