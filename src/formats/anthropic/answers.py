"""Anthropic Messages answers <-> OpenAI chat.completion, and the usage classes of both."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from domain.metering.tokens import TokenUsage
from domain.providers import JSON
from formats.anthropic.tables import finish_reason, stop_reason, tool_use_block
from formats.chat import tool_call, usage_to_openai

# ---------------------------------------------------------------- usage, both directions


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


# ---------------------------------------------------------------- chat -> Anthropic (the route)


def message_id(openai_id: Any) -> str:
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
        tool_input = _tool_input(function.get("arguments"))
        content.append(tool_use_block(call.get("id"), function.get("name"), tool_input))
    return {
        "id": message_id(body.get("id")),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason")) or "end_turn",
        "stop_sequence": None,
        "usage": anthropic_usage(body.get("usage")),
    }


# ---------------------------------------------------------------- Anthropic -> chat (the provider)


def anthropic_to_openai_response(body: JSON, model_id: str) -> JSON:
    """An Anthropic Message as an OpenAI chat.completion (thinking blocks are not relayed)."""
    texts: list[str] = []
    tool_calls: list[JSON] = []
    for block in body.get("content") or []:
        if block.get("type") == "text":
            texts.append(block.get("text", ""))
        elif block.get("type") == "tool_use":
            arguments = json.dumps(block.get("input") or {}, separators=(",", ":"))
            tool_calls.append(tool_call(block.get("id"), block.get("name"), arguments))
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
