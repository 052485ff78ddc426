"""OpenAI's `/v1/responses` for the strict OpenAI fake: a Response object, or the semantic
stream events exactly as OpenAI sends them (each with its `sequence_number`), with usage in the
Responses classes built from the script's chat-format usage."""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.types import Send

JSON = dict[str, Any]

RESPONSES_PARAMS = frozenset(
    {
        "model", "input", "instructions", "stream", "stream_options", "max_output_tokens",
        "temperature", "top_p", "tools", "tool_choice", "parallel_tool_calls", "store",
        "metadata", "user", "text", "reasoning", "include", "truncation", "service_tier",
        "previous_response_id", "background", "conversation", "prompt", "max_tool_calls",
        "top_logprobs", "prompt_cache_key", "safety_identifier",
    }
)  # fmt: skip


def validate_responses(body: JSON) -> JSON | None:
    """OpenAI's 400 for an invalid Responses request (the subset the gateway can send), or
    None."""
    for key in body:
        if key not in RESPONSES_PARAMS:
            return _error(f"Unknown parameter: '{key}'.", key)
    if not isinstance(body.get("model"), str) or not body["model"]:
        return _error("Missing required parameter: 'model'.", "model")
    value = body.get("input")
    if not (isinstance(value, str) and value) and not (isinstance(value, list) and value):
        return _error("Invalid value for 'input'.", "input")
    if "stream_options" in body and body.get("stream") is not True:
        return _error("'stream_options' is only allowed when 'stream' is true.", "stream_options")
    return None


def _error(message: str, param: str) -> JSON:
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": "unknown_parameter" if message.startswith("Unknown") else "invalid_value",
        }
    }


def responses_usage(chat_usage: JSON | None) -> JSON | None:
    if chat_usage is None:
        return None
    prompt = chat_usage.get("prompt_tokens", 0)
    output = chat_usage.get("completion_tokens", 0)
    return {
        "input_tokens": prompt,
        "input_tokens_details": {
            "cached_tokens": (chat_usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
        },
        "output_tokens": output,
        "output_tokens_details": {
            "reasoning_tokens": (chat_usage.get("completion_tokens_details") or {}).get(
                "reasoning_tokens", 0
            )
        },
        "total_tokens": prompt + output,
    }


def _shell(body: JSON, status: str) -> JSON:
    return {
        "id": "resp_fake123",
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": f"{body['model']}-2025-01-01",
        "output": [],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": body.get("store", True),
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": body.get("tools") or [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": {},
    }


def _message(text: str, status: str) -> JSON:
    content = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
    return {
        "id": "msg_fake123",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content if status == "completed" else [],
    }


def response_body(body: JSON, reply: str, usage: JSON | None) -> JSON:
    answer = _shell(body, "completed")
    answer["output"] = [_message(reply, "completed")]
    answer["usage"] = responses_usage(usage)
    return answer


async def stream_response(
    send: Send, body: JSON, reply: str, usage: JSON | None, break_after: int | None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream; charset=utf-8")],
        }
    )
    sequence = 0

    async def emit(data: JSON) -> None:
        nonlocal sequence
        data = {**data, "sequence_number": sequence}
        sequence += 1
        frame = b"event: " + data["type"].encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
        await send({"type": "http.response.body", "body": frame, "more_body": True})

    where = {"item_id": "msg_fake123", "output_index": 0, "content_index": 0}
    await emit({"type": "response.created", "response": _shell(body, "in_progress")})
    await emit({"type": "response.in_progress", "response": _shell(body, "in_progress")})
    await emit({"type": "response.output_item.added", "output_index": 0, "item": _message("", "x")})
    empty = {"type": "output_text", "text": "", "annotations": []}
    await emit({"type": "response.content_part.added", **where, "part": empty})
    for index, word in enumerate(reply.split(" ")):
        if break_after is not None and index >= break_after:
            raise ConnectionAbortedError("fake upstream drops the connection mid-stream")
        piece = word if index == 0 else " " + word
        await emit({"type": "response.output_text.delta", **where, "delta": piece, "logprobs": []})
    await emit({"type": "response.output_text.done", **where, "text": reply, "logprobs": []})
    part = {"type": "output_text", "text": reply, "annotations": []}
    await emit({"type": "response.content_part.done", **where, "part": part})
    item = _message(reply, "completed")
    await emit({"type": "response.output_item.done", "output_index": 0, "item": item})
    await emit({"type": "response.completed", "response": response_body(body, reply, usage)})
    await send({"type": "http.response.body", "body": b""})
