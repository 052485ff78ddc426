"""OpenAI chat requests as Anthropic Messages requests (for an Anthropic upstream): tools,
images and prompt caching included. Only what Anthropic accepts is built, from an allow-list."""

from __future__ import annotations

import json
from typing import Any

from domain.errors import ValidationError
from domain.providers import JSON
from formats.anthropic.tables import (
    ANTHROPIC_TOOL_CHOICE,
    anthropic_tool,
    image_source,
    tool_use_block,
)


def _text_parts(content: Any, role: str) -> list[JSON]:
    """Text blocks of an OpenAI content (string or text parts), `cache_control` kept."""
    if content is None or isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise ValidationError(f"invalid {role} message content")
    blocks = []
    for part in content:
        if not isinstance(part, dict) or part.get("type") != "text":
            raise ValidationError(f"{role} messages may only hold text")
        if not isinstance(part.get("text"), str):
            raise ValidationError("text parts need a string text")
        if part["text"]:
            block: JSON = {"type": "text", "text": str(part["text"])}
            if "cache_control" in part:
                block["cache_control"] = part["cache_control"]
            blocks.append(block)
    return blocks


def _text_of(content: Any, role: str) -> str:
    return "\n".join(block["text"] for block in _text_parts(content, role))


def _image_block(part: JSON) -> JSON:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str):
        raise ValidationError("image_url needs a url")
    return {"type": "image", "source": image_source(url)}


def _user_blocks(content: Any) -> list[JSON]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise ValidationError("invalid user message content")
    blocks: list[JSON] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if not isinstance(part.get("text"), str):
                raise ValidationError("text parts need a string text")
            if part["text"]:
                block: JSON = {"type": "text", "text": part["text"]}
                if "cache_control" in part:
                    block["cache_control"] = part["cache_control"]
                blocks.append(block)
        elif kind == "image_url":
            blocks.append(_image_block(part))
        else:
            raise ValidationError(f"content part {kind!r} is not supported by this model")
    return blocks


def _tool_use_block(call: Any) -> JSON:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise ValidationError("assistant tool_calls need a function name")
    raw = function.get("arguments") or "{}"
    try:
        arguments = json.loads(raw) if isinstance(raw, str) else raw
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValidationError("tool call arguments must be JSON") from exc
    if not isinstance(arguments, dict):
        raise ValidationError("tool call arguments must be a JSON object")
    if not isinstance(call.get("id"), str):
        raise ValidationError("assistant tool_calls need a string id")
    return tool_use_block(call["id"], function["name"], arguments)


def _assistant_blocks(message: JSON) -> list[JSON]:
    blocks: list[JSON] = []
    content = message.get("content")
    if isinstance(content, list):
        text = "".join(
            str(p.get("text") or p.get("refusal") or "") for p in content if isinstance(p, dict)
        )
    else:
        text = content if isinstance(content, str) else ""
    if text:
        blocks.append({"type": "text", "text": text})
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list):
        raise ValidationError("tool_calls must be a list")
    blocks.extend(_tool_use_block(call) for call in calls)
    return blocks


def _tool_result_block(message: JSON) -> JSON:
    content = message.get("content")
    text = content if isinstance(content, str) else _text_of(content, "tool")
    if not isinstance(message.get("tool_call_id"), str):
        raise ValidationError("tool messages need a string tool_call_id")
    return {"type": "tool_result", "tool_use_id": message["tool_call_id"], "content": text}


def _append(turns: list[JSON], role: str, blocks: list[JSON]) -> None:
    """Anthropic wants user and assistant to alternate: consecutive same-role messages (tool
    results followed by a user message, say) are merged into one turn."""
    if not blocks:
        return
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"].extend(blocks)
    else:
        turns.append({"role": role, "content": blocks})


def _simplify(turn: JSON) -> JSON:
    """A turn holding one plain text block is sent as a string, the common form."""
    blocks = turn["content"]
    if len(blocks) == 1 and blocks[0]["type"] == "text" and set(blocks[0]) == {"type", "text"}:
        return {"role": turn["role"], "content": blocks[0]["text"]}
    return turn


def _system_and_turns(messages: Any) -> tuple[list[JSON], list[JSON]]:
    if not isinstance(messages, list) or not messages:
        raise ValidationError("messages must be a non-empty list")
    system: list[JSON] = []
    turns: list[JSON] = []
    for message in messages:
        role = message.get("role") if isinstance(message, dict) else None
        if role in ("system", "developer"):
            system.extend(_text_parts(message.get("content"), str(role)))
        elif role == "user":
            _append(turns, "user", _user_blocks(message.get("content")))
        elif role == "assistant":
            _append(turns, "assistant", _assistant_blocks(message))
        elif role == "tool":
            _append(turns, "user", [_tool_result_block(message)])
        else:
            raise ValidationError(f"message role {role!r} is not supported")
    return system, [_simplify(t) for t in turns]


def _tools(tools: Any) -> list[JSON]:
    if not isinstance(tools, list):
        raise ValidationError("tools must be a list")
    out = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or tool.get("type") != "function":
            raise ValidationError("only function tools are supported by this model")
        parameters = function.get("parameters")
        if not isinstance(function.get("name"), str):
            raise ValidationError("each function tool needs a name")
        if parameters is not None and not isinstance(parameters, dict):
            raise ValidationError("function parameters must be a JSON Schema object")
        if not isinstance(function.get("description", ""), str | None):
            raise ValidationError("function description must be a string")
        schema = parameters or {"type": "object", "properties": {}}
        out.append(anthropic_tool(function["name"], schema, function.get("description")))
    return out


def _tool_choice(choice: Any, parallel: Any) -> JSON | None:
    result: JSON | None
    if choice is None:
        result = {"type": "auto"} if parallel is False else None
    elif choice == "none":
        return {"type": "none"}
    elif isinstance(choice, str) and choice in ANTHROPIC_TOOL_CHOICE:
        result = {"type": ANTHROPIC_TOOL_CHOICE[choice]}
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        if not isinstance(choice["function"].get("name"), str):
            raise ValidationError("tool_choice needs a function name")
        result = {"type": "tool", "name": choice["function"]["name"]}
    else:
        raise ValidationError("invalid tool_choice")
    if parallel is not None and not isinstance(parallel, bool):
        raise ValidationError("parallel_tool_calls must be a boolean")
    if result is not None and parallel is False:
        result["disable_parallel_tool_use"] = True
    return result


def openai_to_anthropic_request(
    body: JSON, upstream_model: str, default_max_tokens: int = 4096
) -> JSON:
    """An OpenAI chat request as an Anthropic Messages request. Only what Anthropic accepts is
    built, from an allow-list, so nothing else in the client's body travels upstream.
    `default_max_tokens` (the model's maximum output) fills Anthropic's required max_tokens."""
    if (n := body.get("n")) is not None and n != 1:
        raise ValidationError("n > 1 is not supported by this model")
    system, turns = _system_and_turns(body.get("messages"))
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or default_max_tokens
    out: JSON = {"model": upstream_model, "max_tokens": max_tokens, "messages": turns}
    if any("cache_control" in block for block in system):
        out["system"] = system  # blocks, so prompt caching survives
    elif system:
        out["system"] = "\n\n".join(block["text"] for block in system)
    for key in ("temperature", "top_p"):
        if (value := body.get(key)) is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationError(f"{key} must be a number")
            out[key] = value
    stop = body.get("stop")
    if stop is not None:
        stops = [stop] if isinstance(stop, str) else stop
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise ValidationError("stop must be a string or a list of strings")
        if stops:
            out["stop_sequences"] = stops
    if body.get("tools") is not None and (tools := _tools(body["tools"])):
        out["tools"] = tools
        choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice is not None:
            out["tool_choice"] = choice
    if isinstance(body.get("user"), str) and body["user"]:
        out["metadata"] = {"user_id": body["user"]}
    return out
