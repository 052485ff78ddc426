"""Shape checks of Gemini's native request bodies. Every field read from the client's body is
type-checked, so a wrong JSON type is a 400 naming the field (never an AttributeError), for
native and translated calls alike."""

from __future__ import annotations

from typing import Any

from domain.errors import ValidationError
from domain.providers import JSON


def objects(value: Any, what: str, *, required: bool = False) -> list[JSON]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise ValidationError(
            f"'{what}' must be a non-empty array" if required else f"'{what}' must be an array"
        )
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValidationError(f"'{what}[{index}]' must be an object")
    return value


def optional_object(value: Any, what: str) -> JSON:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"'{what}' must be an object")
    return value


def _positive(config: JSON, name: str) -> int | None:
    value = config.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(f"'generationConfig.{name}' must be a positive integer")
    return value


def contents_of(body: JSON) -> list[JSON]:
    """`contents`: a non-empty list of `{role, parts}` objects whose parts are objects."""
    contents = objects(body.get("contents"), "contents", required=True)
    for i, content in enumerate(contents):
        role = content.get("role", "user")
        if role not in ("user", "model", "function", "tool"):
            raise ValidationError(f"'contents[{i}].role' must be user or model")
        objects(content.get("parts"), f"contents[{i}].parts", required=True)
    return contents


def generation_config(body: JSON) -> tuple[JSON, int | None, int]:
    """`generationConfig`, its `maxOutputTokens` and its `candidateCount` (1 by default)."""
    config = optional_object(body.get("generationConfig"), "generationConfig")
    return config, _positive(config, "maxOutputTokens"), _positive(config, "candidateCount") or 1


def check_generate(body: JSON) -> tuple[int | None, int]:
    """A `generateContent` body's shape; returns maxOutputTokens and candidateCount."""
    contents_of(body)
    system = body.get("systemInstruction")
    if system is not None and not isinstance(system, dict | str):
        raise ValidationError("'systemInstruction' must be a Content object")
    if isinstance(system, dict):
        objects(system.get("parts"), "systemInstruction.parts")
    for i, tool in enumerate(objects(body.get("tools"), "tools")):
        objects(tool.get("functionDeclarations"), f"tools[{i}].functionDeclarations")
    optional_object(body.get("toolConfig"), "toolConfig")
    _, max_tokens, candidates = generation_config(body)
    return max_tokens, candidates


def embed_requests(body: JSON, batch: bool) -> list[JSON]:
    """The `EmbedContentRequest`s of an `embedContent` (one) or `batchEmbedContents` body."""
    requests = objects(body.get("requests"), "requests", required=True) if batch else [body]
    for i, request in enumerate(requests):
        where = f"requests[{i}].content" if batch else "content"
        content = request.get("content")
        if not isinstance(content, dict):
            raise ValidationError(f"'{where}' must be a Content object")
        objects(content.get("parts"), f"{where}.parts", required=True)
        dims = request.get("outputDimensionality")
        if dims is not None and (isinstance(dims, bool) or not isinstance(dims, int) or dims <= 0):
            raise ValidationError("'outputDimensionality' must be a positive integer")
    return requests
