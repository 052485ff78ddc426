"""Anthropic Messages <-> OpenAI chat, for `/v1/messages` calls whose model is not Anthropic's.

The Anthropic SDK then works against any model: its request is translated to the OpenAI format
every provider adapter speaks, and the OpenAI answer (or chunk stream) back into Anthropic's, with
usage in Anthropic's classes (input_tokens excludes the cached read, which is given apart).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from domain.errors import ValidationError
from domain.providers import JSON

_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
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


# ---------------------------------------------------------------- request
# Every field read from the client's body is type-checked here, so a wrong JSON type is a 400
# naming the field (never an AttributeError, never a malformed body sent upstream).


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
    if source.get("type") == "base64":
        media_type = _string(source.get("media_type"), "image media_type")
        data = _string(source.get("data"), "image data")
        url = f"data:{media_type};base64,{data}"
    elif source.get("type") == "url":
        url = _string(source.get("url"), "image url")
    else:
        raise ValidationError("image source must be base64 or url")
    return {"type": "image_url", "image_url": {"url": url}}


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
            calls.append(
                {
                    "id": _string(block.get("id"), "tool_use id"),
                    "type": "function",
                    "function": {
                        "name": _string(block.get("name"), "tool_use name"),
                        "arguments": arguments,
                    },
                }
            )
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
        function: JSON = {
            "name": _string(tool.get("name"), "tool name"),
            "parameters": _object(tool["input_schema"], "tool input_schema"),
        }
        if description := _optional_string(tool.get("description"), "tool description"):
            function["description"] = description
        out.append({"type": "function", "function": function})
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
    if kind == "auto":
        return "auto", parallel_off
    if kind == "any":
        return "required", parallel_off
    if kind == "none":
        return "none", False
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


# ---------------------------------------------------------------- response


def anthropic_usage(usage: Any) -> JSON:
    """OpenAI usage in Anthropic's classes: prompt_tokens includes the cached read, Anthropic's
    input_tokens does not."""
    usage = usage if isinstance(usage, dict) else {}
    details = usage.get("prompt_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0)
    prompt = int(usage.get("prompt_tokens") or 0)
    return {
        "input_tokens": max(prompt - cached, 0),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "output_tokens": int(usage.get("completion_tokens") or 0),
    }


def stop_reason(finish_reason: Any) -> str | None:
    if finish_reason is None:
        return None
    return _STOP_REASONS.get(str(finish_reason), "end_turn")


def _message_id(openai_id: Any) -> str:
    text = str(openai_id or "")
    if text.startswith("msg_"):
        return text
    return f"msg_{text}" if text else f"msg_{uuid.uuid4().hex}"


def _tool_input(arguments: Any) -> JSON:
    """Tool arguments as the object Anthropic's tool_use.input must be. Malformed JSON from the
    model is kept, as a string, rather than dropped."""
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments) if arguments else {}
    except (TypeError, json.JSONDecodeError):
        return {"_raw_arguments": str(arguments)}
    return parsed if isinstance(parsed, dict) else {"_raw_arguments": str(arguments)}


def openai_to_anthropic_response(body: JSON, model: str) -> JSON:
    """An OpenAI chat.completion as an Anthropic Message (first choice)."""
    choices = body.get("choices") or [{}]
    choice = choices[0]
    message = choice.get("message") or {}
    content: list[JSON] = []
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": _tool_input(function.get("arguments")),
            }
        )
    return {
        "id": _message_id(body.get("id")),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason")) or "end_turn",
        "stop_sequence": None,
        "usage": anthropic_usage(body.get("usage")),
    }


# ---------------------------------------------------------------- stream

Event = tuple[str, JSON]


class OpenAIToAnthropicStream:
    """Turns OpenAI chat.completion.chunk objects into Anthropic stream events. OpenAI reports
    usage after the finish chunk, so `message_delta` (stop reason and usage) and `message_stop`
    are sent by `finish()`, called once the upstream stream has ended."""

    def __init__(self, model: str, message_id: str | None = None) -> None:
        self._model = model
        self._id = message_id
        self._started = False
        self._next_index = 0
        self._open: int | None = None  # the Anthropic block index open now
        self._open_kind: str | None = None
        self._tools: dict[int, int] = {}  # OpenAI tool_calls index -> Anthropic block index
        self._stop_reason: str | None = None
        self._usage: JSON | None = None
        self.finished = False

    def _start(self, chunk_id: Any) -> list[Event]:
        if self._started:
            return []
        self._started = True
        self._id = self._id or _message_id(chunk_id)
        message: JSON = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return [("message_start", {"type": "message_start", "message": message})]

    def _close_block(self) -> list[Event]:
        if self._open is None:
            return []
        index, self._open, self._open_kind = self._open, None, None
        return [("content_block_stop", {"type": "content_block_stop", "index": index})]

    def _open_block(self, kind: str, block: JSON) -> list[Event]:
        events = self._close_block()
        self._open, self._open_kind = self._next_index, kind
        self._next_index += 1
        start = {"type": "content_block_start", "index": self._open, "content_block": block}
        events.append(("content_block_start", start))
        return events

    def feed(self, chunk: JSON) -> list[Event]:
        events = self._start(chunk.get("id"))
        if isinstance(chunk.get("usage"), dict):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                events.extend(self._text(delta["content"]))
            for call in delta.get("tool_calls") or []:
                events.extend(self._tool(call))
            if choice.get("finish_reason"):
                self._stop_reason = stop_reason(choice["finish_reason"])
                events.extend(self._close_block())
        return events

    def _text(self, text: str) -> list[Event]:
        events: list[Event] = []
        if self._open_kind != "text" or self._open is None:
            events.extend(self._open_block("text", {"type": "text", "text": ""}))
        data = {
            "type": "content_block_delta",
            "index": self._open,
            "delta": {"type": "text_delta", "text": text},
        }
        events.append(("content_block_delta", data))
        return events

    def _tool(self, call: JSON) -> list[Event]:
        position = int(call.get("index", 0))
        function = call.get("function") or {}
        events: list[Event] = []
        if position not in self._tools:
            self._tools[position] = self._next_index
            block = {"type": "tool_use", "id": call.get("id"), "name": function.get("name")}
            events.extend(self._open_block("tool_use", {**block, "input": {}}))
        if function.get("arguments"):
            delta = {"type": "input_json_delta", "partial_json": function["arguments"]}
            data = {"type": "content_block_delta", "index": self._tools[position], "delta": delta}
            events.append(("content_block_delta", data))
        return events

    def finish(self) -> list[Event]:
        """The closing events: any open block's stop, `message_delta` with the stop reason and
        the usage (input classes included, as Anthropic's cumulative message_delta may), and
        `message_stop`."""
        if self.finished:
            return []
        self.finished = True
        events = self._start(None)
        events.extend(self._close_block())
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": self._stop_reason or "end_turn", "stop_sequence": None},
            "usage": anthropic_usage(self._usage),
        }
        events.append(("message_delta", delta))
        events.append(("message_stop", {"type": "message_stop"}))
        return events
