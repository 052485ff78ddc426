"""OpenAI chat format <-> Anthropic Messages, as pure functions.

The gateway speaks OpenAI's chat format to its clients; these functions let an Anthropic upstream
answer it, including tools, images and streaming. Usage is parsed into the product's convention:
Anthropic's `input_tokens` excludes cache reads and cache writes, so the three are added up once.
"""

from __future__ import annotations

import json
import time
from typing import Any

from adapters.providers.openai import usage_to_openai
from domain.errors import ValidationError
from domain.metering.tokens import TokenUsage
from domain.providers import JSON

_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


# ---------------------------------------------------------------- usage


def _count(usage: JSON, key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def usage_from_anthropic(usage: JSON | None) -> TokenUsage | None:
    """Anthropic's usage in the product's convention: input = uncached + cache read + cache write
    (Anthropic reports them apart, so adding them counts each token once). None when absent."""
    if not isinstance(usage, dict):
        return None
    cache_read = _count(usage, "cache_read_input_tokens")
    cache_write = _count(usage, "cache_creation_input_tokens")
    output = _count(usage, "output_tokens")
    details = usage.get("output_tokens_details")
    thinking = _count(details, "thinking_tokens") if isinstance(details, dict) else 0
    return TokenUsage(
        input_tokens=_count(usage, "input_tokens") + cache_read + cache_write,
        output_tokens=output,
        cached_input_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=min(thinking, output),
    )


class StreamUsage:
    """Usage of an Anthropic stream: message_start gives the input classes, message_delta the
    cumulative output (and, in newer API versions, the input classes again). Every report is
    cumulative, so the latest value of each field wins; nothing is ever summed."""

    def __init__(self) -> None:
        self._fields: JSON = {}

    def update(self, usage: Any) -> None:
        if isinstance(usage, dict):
            self._fields.update({k: v for k, v in usage.items() if v is not None})

    @property
    def usage(self) -> TokenUsage | None:
        return usage_from_anthropic(self._fields) if self._fields else None


# ---------------------------------------------------------------- request


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
    if url.startswith("data:"):
        header, sep, data = url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if not sep or encoding != "base64" or media_type not in _IMAGE_TYPES:
            raise ValidationError("image data URLs must be base64 jpeg, png, gif or webp")
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise ValidationError("image_url must be an http(s) or data: URL")


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
    return {"type": "tool_use", "id": call["id"], "name": function["name"], "input": arguments}


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
        spec: JSON = {
            "name": function["name"],
            "input_schema": parameters or {"type": "object", "properties": {}},
        }
        if function.get("description"):
            spec["description"] = function["description"]
        out.append(spec)
    return out


def _tool_choice(choice: Any, parallel: Any) -> JSON | None:
    result: JSON | None
    if choice is None:
        result = {"type": "auto"} if parallel is False else None
    elif choice == "auto":
        result = {"type": "auto"}
    elif choice == "none":
        return {"type": "none"}
    elif choice == "required":
        result = {"type": "any"}
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


# ---------------------------------------------------------------- response


def finish_reason(stop_reason: Any) -> str:
    return _FINISH_REASONS.get(stop_reason, "stop") if stop_reason else "stop"


def anthropic_to_openai_response(body: JSON, model_id: str) -> JSON:
    """An Anthropic Message as an OpenAI chat.completion (thinking blocks are not relayed)."""
    texts: list[str] = []
    tool_calls: list[JSON] = []
    for block in body.get("content") or []:
        if block.get("type") == "text":
            texts.append(block.get("text", ""))
        elif block.get("type") == "tool_use":
            tool_calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {
                        "name": block.get("name"),
                        "arguments": json.dumps(block.get("input") or {}, separators=(",", ":")),
                    },
                }
            )
    message: JSON = {"role": "assistant", "content": "".join(texts) or None, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    out: JSON = {
        "id": body.get("id"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_id,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason(body.get("stop_reason")),
                "logprobs": None,
            }
        ],
    }
    usage = usage_from_anthropic(body.get("usage"))
    if usage is not None:
        out["usage"] = usage_to_openai(usage)
    return out


# ---------------------------------------------------------------- stream


class AnthropicToOpenAIStream:
    """Turns Anthropic stream events into OpenAI chat.completion.chunk objects: a role chunk,
    content and tool-call deltas, a finish chunk, and a last usage chunk with `choices: []`
    (as OpenAI sends with include_usage). `ping` and thinking deltas produce nothing."""

    def __init__(self, model_id: str, created: int | None = None) -> None:
        self._model_id = model_id
        self._created = int(time.time()) if created is None else created
        self._id = ""
        self._tools: dict[int, int] = {}  # Anthropic block index -> OpenAI tool_calls index
        self.stream_usage = StreamUsage()
        self.finished = False

    def _chunk(self, delta: JSON | None, finish: str | None = None) -> JSON:
        choices = (
            []
            if delta is None
            else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
        )
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model_id,
            "choices": choices,
        }

    def feed(self, event: str, data: JSON) -> list[JSON]:
        kind = data.get("type", event)
        if kind == "message_start":
            message = data.get("message") or {}
            self._id = str(message.get("id", ""))
            self.stream_usage.update(message.get("usage"))
            return [self._chunk({"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            return self._block_start(data)
        if kind == "content_block_delta":
            return self._block_delta(data)
        if kind == "message_delta":
            self.stream_usage.update(data.get("usage"))
            reason = (data.get("delta") or {}).get("stop_reason")
            return [self._chunk({}, finish_reason(reason))]
        if kind == "message_stop":
            self.finished = True
            usage = self.stream_usage.usage
            if usage is None:
                return []
            chunk = self._chunk(None)
            chunk["usage"] = usage_to_openai(usage)
            return [chunk]
        return []

    def _block_start(self, data: JSON) -> list[JSON]:
        block = data.get("content_block") or {}
        if block.get("type") == "text" and block.get("text"):
            return [self._chunk({"content": block["text"]})]
        if block.get("type") != "tool_use":
            return []
        index = len(self._tools)
        self._tools[int(data.get("index", 0))] = index
        call = {
            "index": index,
            "id": block.get("id"),
            "type": "function",
            "function": {"name": block.get("name"), "arguments": ""},
        }
        return [self._chunk({"tool_calls": [call]})]

    def _block_delta(self, data: JSON) -> list[JSON]:
        delta = data.get("delta") or {}
        if delta.get("type") == "text_delta":
            return [self._chunk({"content": delta.get("text", "")})]
        if delta.get("type") == "input_json_delta":
            index = self._tools.get(int(data.get("index", 0)))
            if index is None or not delta.get("partial_json"):
                return []
            call = {"index": index, "function": {"arguments": delta["partial_json"]}}
            return [self._chunk({"tool_calls": [call]})]
        return []
