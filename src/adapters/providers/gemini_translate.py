"""Gemini's answers (`generateContent`, streamed or not) in OpenAI's chat format, and Gemini's
usage in the product's token convention. Requests: gemini_request.py; embeddings:
gemini_embeddings.py. Pure, so every rule is pinned by golden tests without a network.

Usage follows domain.metering.tokens: Gemini's `promptTokenCount` already includes the cached
tokens and `toolUsePromptTokenCount` is prompt read on top of it; `thoughtsTokenCount` is reasoning
generated on top of `candidatesTokenCount`. Gemini's JSON omits zero-valued counts (proto3),
so inside a present `usageMetadata` object a missing count means zero; a missing object means
no report at all. Streaming reports are cumulative: the last one wins, they are never summed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from adapters.providers.openai import usage_to_openai
from domain.errors import ValidationError
from domain.metering.tokens import TokenUsage
from domain.providers import JSON, ProviderError, ProviderFailure

IdFactory = Callable[[], str]

_FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "LANGUAGE": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
}


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


# --- usage -----------------------------------------------------------------------------------


def _count(meta: JSON, name: str) -> int:
    value = meta.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProviderError(ProviderFailure.BAD_RESPONSE, f"gemini sent an invalid {name}")
    return value


def usage_from_gemini(meta: Any) -> TokenUsage | None:
    """Gemini `usageMetadata` in the product's token convention; None when there is no report.
    A present object with omitted counts is a report of zeros (Gemini drops zero fields)."""
    if not isinstance(meta, dict):
        return None
    prompt = _count(meta, "promptTokenCount") + _count(meta, "toolUsePromptTokenCount")
    thoughts = _count(meta, "thoughtsTokenCount")
    try:
        return TokenUsage(
            input_tokens=prompt,
            cached_input_tokens=_count(meta, "cachedContentTokenCount"),
            output_tokens=_count(meta, "candidatesTokenCount") + thoughts,
            reasoning_tokens=thoughts,
        )
    except ValidationError as exc:
        raise ProviderError(
            ProviderFailure.BAD_RESPONSE, "gemini sent inconsistent token counts"
        ) from exc


# --- response --------------------------------------------------------------------------------


def objects_in(value: Any) -> list[JSON]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _parts(candidate: JSON) -> list[JSON]:
    content = candidate.get("content")
    return objects_in(content.get("parts")) if isinstance(content, dict) else []


def _text(parts: list[JSON]) -> str:
    """Answer text only: thought-summary parts (`thought: true`) are not the answer."""
    return "".join(
        part["text"]
        for part in parts
        if isinstance(part.get("text"), str) and not part.get("thought")
    )


def _tool_call(part: JSON, new_id: IdFactory) -> JSON | None:
    call = part.get("functionCall")
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        return None
    args = call.get("args") if isinstance(call.get("args"), dict) else {}
    call_id = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else new_id()
    arguments = orjson.dumps(args).decode()
    tool_call: JSON = {
        "id": call_id,
        "type": "function",
        "function": {"name": call["name"], "arguments": arguments},
    }
    if isinstance(part.get("thoughtSignature"), str):
        tool_call["extra_content"] = {"google": {"thought_signature": part["thoughtSignature"]}}
    return tool_call


def _tool_calls(parts: list[JSON], new_id: IdFactory) -> list[JSON]:
    return [call for part in parts if (call := _tool_call(part, new_id)) is not None]


def finish_reason(reason: Any, has_tool_calls: bool) -> str:
    mapped = _FINISH_REASONS.get(reason, "stop") if isinstance(reason, str) else "stop"
    return "tool_calls" if has_tool_calls and mapped == "stop" else mapped


def _index(candidate: JSON, default: int) -> int:
    index = candidate.get("index", default)
    return index if isinstance(index, int) and not isinstance(index, bool) else default


def _blocked(response: JSON) -> bool:
    feedback = response.get("promptFeedback")
    return isinstance(feedback, dict) and bool(feedback.get("blockReason"))


def _completion_id(response: JSON) -> str:
    response_id = response.get("responseId")
    return f"chatcmpl-{response_id if isinstance(response_id, str) else uuid.uuid4().hex}"


def chat_response_to_openai(
    response: JSON, model: str, *, created: int | None = None, new_id: IdFactory = new_call_id
) -> JSON:
    """A Gemini `GenerateContentResponse` as an OpenAI `chat.completion` body."""
    choices = []
    for position, candidate in enumerate(objects_in(response.get("candidates"))):
        parts = _parts(candidate)
        calls = _tool_calls(parts, new_id)
        message: JSON = {"role": "assistant", "content": _text(parts) or None, "refusal": None}
        if calls:
            message["tool_calls"] = calls
        choices.append(
            {
                "index": _index(candidate, position),
                "message": message,
                "finish_reason": finish_reason(candidate.get("finishReason"), bool(calls)),
                "logprobs": None,
            }
        )
    if not choices:  # a blocked prompt answers no candidate at all
        reason = "content_filter" if _blocked(response) else "stop"
        message = {"role": "assistant", "content": None, "refusal": None}
        choices.append({"index": 0, "message": message, "finish_reason": reason, "logprobs": None})
    body: JSON = {
        "id": _completion_id(response),
        "object": "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": model,
        "choices": choices,
    }
    usage = usage_from_gemini(response.get("usageMetadata"))
    if usage is not None:
        body["usage"] = usage_to_openai(usage)
    return body


# --- streaming -------------------------------------------------------------------------------


class GeminiToOpenAIStream:
    """Turns each streamed `GenerateContentResponse` into OpenAI `chat.completion.chunk`s: a role
    chunk per choice first, then text and tool-call deltas, a finish chunk, and from `finish()`
    one usage chunk (`choices: []`). Usage keeps the LAST report: Gemini's are cumulative."""

    def __init__(
        self, model: str, *, created: int | None = None, new_id: IdFactory = new_call_id
    ) -> None:
        self._model = model
        self._created = int(time.time()) if created is None else created
        self._new_id = new_id
        self._id: str | None = None
        self._started: set[int] = set()
        self._finished: set[int] = set()
        self._tool_calls: dict[int, int] = {}  # choice index -> tool calls sent so far
        self.usage: TokenUsage | None = None

    def feed(self, event: JSON) -> list[JSON]:
        raise_stream_error(event, self.usage)
        if self._id is None:
            self._id = _completion_id(event)
        if "usageMetadata" in event:
            self.usage = usage_from_gemini(event["usageMetadata"])  # replaces, never adds
        chunks: list[JSON] = []
        candidates = objects_in(event.get("candidates"))
        for position, candidate in enumerate(candidates):
            chunks.extend(self._candidate(candidate, position))
        if not candidates and _blocked(event) and 0 not in self._finished:
            chunks.extend(self._start(0))
            chunks.append(self._finish(0, "content_filter"))
        return chunks

    def finish(self) -> list[JSON]:
        """The closing usage chunk, when Gemini reported any usage."""
        if self.usage is None:
            return []
        return [{**self._envelope(), "choices": [], "usage": usage_to_openai(self.usage)}]

    def _candidate(self, candidate: JSON, position: int) -> list[JSON]:
        index = _index(candidate, position)
        chunks = self._start(index)
        parts = _parts(candidate)
        if text := _text(parts):
            chunks.append(self._delta(index, {"content": text}))
        for call in _tool_calls(parts, self._new_id):
            sent = self._tool_calls.get(index, 0)
            self._tool_calls[index] = sent + 1
            chunks.append(self._delta(index, {"tool_calls": [{"index": sent, **call}]}))
        reason = candidate.get("finishReason")
        if reason and reason != "FINISH_REASON_UNSPECIFIED" and index not in self._finished:
            has_calls = self._tool_calls.get(index, 0) > 0
            chunks.append(self._finish(index, finish_reason(reason, has_calls)))
        return chunks

    def _start(self, index: int) -> list[JSON]:
        if index in self._started:
            return []
        self._started.add(index)
        return [self._delta(index, {"role": "assistant", "content": ""})]

    def _finish(self, index: int, reason: str) -> JSON:
        self._finished.add(index)
        return self._chunk(index, {}, reason)

    def _delta(self, index: int, delta: JSON) -> JSON:
        return self._chunk(index, delta, None)

    def _chunk(self, index: int, delta: JSON, reason: str | None) -> JSON:
        choice = {"index": index, "delta": delta, "finish_reason": reason, "logprobs": None}
        return {**self._envelope(), "choices": [choice]}

    def _envelope(self) -> JSON:
        if self._id is None:
            self._id = f"chatcmpl-{uuid.uuid4().hex}"
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
        }


def raise_stream_error(event: JSON, usage: TokenUsage | None) -> None:
    """Raise the error a Gemini stream event carries, if it carries one (with the usage billed
    so far)."""
    error = event.get("error")
    if isinstance(error, dict):
        status = error.get("code") if isinstance(error.get("code"), int) else None
        raise ProviderError(
            ProviderFailure.STATUS,
            "gemini reported an error mid-stream",
            status=status,
            body=event,
            usage=usage,
        )
