"""Anthropic Messages requests as OpenAI chat requests (for `/v1/messages` calls whose model
is not Anthropic's). Every field read from the client's body is type-checked here, so a wrong
JSON type is a 400 naming the field (never an AttributeError, never a malformed body sent
upstream)."""

from __future__ import annotations

import json
from typing import Any

from domain.errors import ValidationError
from domain.providers import JSON
from formats.anthropic.tables import CHAT_TOOL_CHOICE, image_url
from formats.chat import function_tool, tool_call


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a string")
    return value


def _optional_string(value: Any, what: str) -> str | None:
    return None if value is None else _string(value, what)


def _object(value: Any, what: str) -> JSON:
    if not isinstance(value, dict):
        raise ValidationError(f"{what} must be an object")
    return value


def _number(body: JSON, key: str) -> float | int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{key} must be a number")
    return value


def _system_text(system: Any) -> str:
    if isinstance(system, str):
        return system
    if isinstance(system, list):
        return "\n".join(
            _string(b.get("text", ""), "system text")
            for b in _blocks(system)
            if b.get("type") == "text"
        )
    raise ValidationError("system must be a string or a list of text blocks")


def _blocks(content: Any) -> list[JSON]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list) or not all(isinstance(b, dict) for b in content):
        raise ValidationError("message content must be a string or a list of blocks")
    return content


def _image_part(block: JSON) -> JSON:
    source = _object(block.get("source"), "image source")
    return {"type": "image_url", "image_url": {"url": image_url(source)}}


def _tool_result_text(content: Any) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    return "\n".join(
        _string(b.get("text", ""), "tool_result text")
        for b in _blocks(content)
        if b.get("type") == "text"
    )


def _parts_content(parts: list[JSON]) -> str | list[JSON]:
    """A lone text part is sent as a plain string, which every OpenAI-compatible server takes."""
    if len(parts) == 1 and parts[0]["type"] == "text":
        return str(parts[0]["text"])
    return parts


def _user_messages(content: Any) -> list[JSON]:
    """Tool results become `tool` messages, placed first since they answer the previous
    assistant turn; the rest of the turn follows as one user message."""
    tools: list[JSON] = []
    parts: list[JSON] = []
    for block in _blocks(content):
        kind = block.get("type")
        if kind == "text":
            parts.append({"type": "text", "text": _string(block.get("text", ""), "text")})
        elif kind == "image":
            parts.append(_image_part(block))
        elif kind == "tool_result":
            text = _tool_result_text(block.get("content"))
            if block.get("is_error") and not text:
                text = "error"
            call_id = _string(block.get("tool_use_id"), "tool_result tool_use_id")
            tools.append({"role": "tool", "tool_call_id": call_id, "content": text})
        else:
            raise ValidationError(f"content block {kind!r} is not supported by this model")
    if parts:
        tools.append({"role": "user", "content": _parts_content(parts)})
    return tools


def _assistant_message(content: Any) -> JSON:
    texts: list[str] = []
    calls: list[JSON] = []
    for block in _blocks(content):
        kind = block.get("type")
        if kind == "text":
            texts.append(_string(block.get("text", ""), "text"))
        elif kind == "tool_use":
            tool_input = block.get("input")
            arguments = json.dumps(
                {} if tool_input is None else _object(tool_input, "tool_use input"),
                separators=(",", ":"),
            )
            call_id = _string(block.get("id"), "tool_use id")
            calls.append(tool_call(call_id, _string(block.get("name"), "tool_use name"), arguments))
        elif kind not in ("thinking", "redacted_thinking"):
            raise ValidationError(f"content block {kind!r} is not supported by this model")
    message: JSON = {"role": "assistant", "content": "".join(texts) or None}
    if calls:
        message["tool_calls"] = calls
    return message


def _tools(tools: Any) -> list[JSON]:
    if not isinstance(tools, list):
        raise ValidationError("tools must be a list")
    out = []
    for tool in tools:
        if not isinstance(tool, dict) or "input_schema" not in tool:
            raise ValidationError("only custom tools with an input_schema are supported")
        name = _string(tool.get("name"), "tool name")
        parameters = _object(tool["input_schema"], "tool input_schema")
        description = _optional_string(tool.get("description"), "tool description")
        out.append(function_tool(name, parameters, description))
    return out


def _tool_choice(choice: Any) -> tuple[Any, bool]:
    """OpenAI's tool_choice, and whether parallel tool calls were disabled."""
    if choice is None:
        return None, False
    choice = _object(choice, "tool_choice")
    kind = choice.get("type")
    parallel = choice.get("disable_parallel_tool_use")
    if parallel is not None and not isinstance(parallel, bool):
        raise ValidationError("tool_choice.disable_parallel_tool_use must be a boolean")
    parallel_off = parallel is True
    if isinstance(kind, str) and kind in CHAT_TOOL_CHOICE:
        return CHAT_TOOL_CHOICE[kind], parallel_off and kind != "none"
    if kind == "tool":
        name = _string(choice.get("name"), "tool_choice name")
        return {"type": "function", "function": {"name": name}}, parallel_off
    raise ValidationError("invalid tool_choice")


def _stop(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ValidationError("stop_sequences must be a list of strings")
    return value


def _user_id(metadata: Any) -> str | None:
    if metadata is None:
        return None
    return _optional_string(_object(metadata, "metadata").get("user_id"), "metadata.user_id")


def anthropic_to_openai_request(body: JSON) -> JSON:
    """An Anthropic Messages request as an OpenAI chat request. `max_tokens` becomes
    `max_completion_tokens`, which OpenAI's reasoning models require. Thinking and top_k have no
    OpenAI equivalent and are dropped."""
    turns = body.get("messages")
    if not isinstance(turns, list) or not turns:
        raise ValidationError("messages must be a non-empty list")
    messages: list[JSON] = []
    if body.get("system"):
        messages.append({"role": "system", "content": _system_text(body["system"])})
    for turn in turns:
        role = turn.get("role") if isinstance(turn, dict) else None
        if role == "user":
            messages.extend(_user_messages(turn.get("content")))
        elif role == "assistant":
            messages.append(_assistant_message(turn.get("content")))
        else:
            raise ValidationError(f"message role {role!r} is not supported")
    out: JSON = {"model": body.get("model"), "messages": messages}
    if body.get("max_tokens") is not None:
        out["max_completion_tokens"] = body["max_tokens"]
    for key in ("temperature", "top_p"):
        if (value := _number(body, key)) is not None:
            out[key] = value
    if (stop := body.get("stop_sequences")) is not None and _stop(stop):
        out["stop"] = list(stop)
    if (tools := _tools(body["tools"]) if body.get("tools") is not None else []) != []:
        out["tools"] = tools
        choice, parallel_off = _tool_choice(body.get("tool_choice"))
        if choice is not None:
            out["tool_choice"] = choice
        if parallel_off:
            out["parallel_tool_calls"] = False
    if user := _user_id(body.get("metadata")):
        out["user"] = user
    if body.get("stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out
