"""The mapping tables of Anthropic Messages <-> OpenAI chat, each defined once and read in both
directions: stop reasons, tool choices, tool shapes and image sources."""

from __future__ import annotations

from typing import Any

from domain.errors import ValidationError
from domain.providers import JSON
from formats.chat import data_url, parse_data_url

# Anthropic stop_reason <-> OpenAI finish_reason, for the reasons both formats have.
STOP_REASONS: tuple[tuple[str, str], ...] = (
    ("end_turn", "stop"),
    ("max_tokens", "length"),
    ("tool_use", "tool_calls"),
    ("refusal", "content_filter"),
)
# Reasons one side only has, and the nearest of the other side.
_ANTHROPIC_ONLY = {
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "model_context_window_exceeded": "length",
}
_OPENAI_ONLY = {"function_call": "tool_use"}

FINISH_BY_STOP = {**dict(STOP_REASONS), **_ANTHROPIC_ONLY}
STOP_BY_FINISH = {**{finish: stop for stop, finish in STOP_REASONS}, **_OPENAI_ONLY}
ANTHROPIC_STOP_REASONS = tuple(FINISH_BY_STOP)

# Anthropic tool_choice type <-> OpenAI's string tool_choice ("tool" <-> a function object).
TOOL_CHOICES: tuple[tuple[str, str], ...] = (
    ("auto", "auto"),
    ("any", "required"),
    ("none", "none"),
)
CHAT_TOOL_CHOICE = dict(TOOL_CHOICES)
ANTHROPIC_TOOL_CHOICE = {chat: anthropic for anthropic, chat in TOOL_CHOICES}

# Image media types Anthropic accepts inline.
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def finish_reason(stop_reason: Any) -> str:
    """An Anthropic stop_reason as OpenAI's finish_reason (`stop` for none or an unknown one)."""
    return FINISH_BY_STOP.get(stop_reason, "stop") if stop_reason else "stop"


def stop_reason(finish_reason: Any) -> str | None:
    """An OpenAI finish_reason as Anthropic's stop_reason (`end_turn` for an unknown one)."""
    if finish_reason is None:
        return None
    return STOP_BY_FINISH.get(str(finish_reason), "end_turn")


def tool_use_block(call_id: Any, name: Any, tool_input: Any) -> JSON:
    """An Anthropic `tool_use` content block (a chat tool call's counterpart)."""
    return {"type": "tool_use", "id": call_id, "name": name, "input": tool_input}


def anthropic_tool(name: str, input_schema: JSON, description: str | None) -> JSON:
    """An Anthropic custom tool (a chat function tool's counterpart)."""
    spec: JSON = {"name": name, "input_schema": input_schema}
    if description:
        spec["description"] = description
    return spec


def image_url(source: JSON) -> str:
    """An Anthropic image source (base64 or url) as the URL of a chat `image_url` part."""
    if source.get("type") == "base64":
        media_type = source.get("media_type")
        data = source.get("data")
        if not isinstance(media_type, str):
            raise ValidationError("image media_type must be a string")
        if not isinstance(data, str):
            raise ValidationError("image data must be a string")
        return data_url(media_type, data)
    if source.get("type") == "url":
        url = source.get("url")
        if not isinstance(url, str):
            raise ValidationError("image url must be a string")
        return url
    raise ValidationError("image source must be base64 or url")


def image_source(url: str) -> JSON:
    """The URL of a chat `image_url` part as an Anthropic image source."""
    if url.startswith("data:"):
        parsed = parse_data_url(url)
        if parsed is None or parsed.params != ("base64",) or parsed.media_type not in IMAGE_TYPES:
            raise ValidationError("image data URLs must be base64 jpeg, png, gif or webp")
        return {"type": "base64", "media_type": parsed.media_type, "data": parsed.data}
    if url.startswith(("https://", "http://")):
        return {"type": "url", "url": url}
    raise ValidationError("image_url must be an http(s) or data: URL")
