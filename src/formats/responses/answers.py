"""Chat answers as Responses API objects."""

from __future__ import annotations

import time
import uuid
from typing import Any

from domain.metering.tokens import TokenUsage
from domain.providers import JSON

# Chat finish_reason -> the Responses API's incomplete_details.reason (any other: completed).
INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}


def responses_usage(usage: Any) -> JSON | None:
    """Chat usage in the Responses API's classes (the same classes, other names)."""
    if not isinstance(usage, dict):
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    output = int(usage.get("completion_tokens") or 0)
    cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    reasoning = int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": prompt + output,
    }


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def usage_from_responses(usage: Any) -> TokenUsage | None:
    """A Response's `usage` in the product's convention: input_tokens includes the cached
    read, output_tokens the reasoning; a part larger than its total is capped to the total."""
    if not isinstance(usage, dict):
        return None
    prompt = _count(usage.get("input_tokens"))
    output = _count(usage.get("output_tokens"))
    if prompt is None and output is None:
        return None
    prompt, output = prompt or 0, output or 0
    input_details = usage.get("input_tokens_details")
    output_details = usage.get("output_tokens_details")
    cached = _count(input_details.get("cached_tokens")) if isinstance(input_details, dict) else 0
    reasoning = (
        _count(output_details.get("reasoning_tokens")) if isinstance(output_details, dict) else 0
    )
    return TokenUsage(
        input_tokens=prompt,
        output_tokens=output,
        cached_input_tokens=min(cached or 0, prompt),
        reasoning_tokens=min(reasoning or 0, output),
    )


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def response_shell(body: JSON, response_id: str, model: str) -> JSON:
    """The Response object's fields that echo the request, status in_progress, no output."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": model,
        "output": [],
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "previous_response_id": None,
        "reasoning": None,
        "store": False,  # the gateway keeps no responses (docs/responses.md)
        "temperature": body.get("temperature"),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p"),
        "truncation": "disabled",
        "usage": None,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


def finish(response: JSON, finish_reason: Any, usage: Any) -> JSON:
    reason = INCOMPLETE_REASONS.get(str(finish_reason)) if finish_reason is not None else None
    response["status"] = "incomplete" if reason else "completed"
    response["incomplete_details"] = {"reason": reason} if reason else None
    response["usage"] = responses_usage(usage)
    return response


def text_part(text: str) -> JSON:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, content: list[JSON], status: str) -> JSON:
    return {
        "type": "message",
        "id": item_id,
        "status": status,
        "role": "assistant",
        "content": content,
    }


def call_item(item_id: str, call_id: str, name: str, arguments: str, status: str) -> JSON:
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


def chat_to_response(answer: JSON, request: JSON, model: str) -> JSON:
    """A chat.completion (first choice) as a Response object."""
    choice = (answer.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    output: list[JSON] = []
    content: list[JSON] = []
    if isinstance(message.get("content"), str) and message["content"]:
        content.append(text_part(message["content"]))
    if isinstance(message.get("refusal"), str) and message["refusal"]:
        content.append({"type": "refusal", "refusal": message["refusal"]})
    if content:
        output.append(message_item(new_id("msg"), content, "completed"))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        output.append(
            call_item(
                new_id("fc"),
                str(call.get("id") or new_id("call")),
                str(function.get("name") or ""),
                str(function.get("arguments") or ""),
                "completed",
            )
        )
    response = response_shell(request, new_id("resp"), model)
    response["output"] = output
    return finish(response, choice.get("finish_reason"), answer.get("usage"))
