"""Gemini answers <-> OpenAI chat.completion (and embeddings), and the usage classes of both.

Usage follows domain.metering.tokens: Gemini's `promptTokenCount` already includes the cached
tokens and `toolUsePromptTokenCount` is prompt read on top of it; `thoughtsTokenCount` is reasoning
generated on top of `candidatesTokenCount`. Gemini's JSON omits zero-valued counts (proto3),
so inside a present `usageMetadata` object a missing count means zero; a missing object means
no report at all. Streaming reports are cumulative: the last one wins, they are never summed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from domain.errors import ValidationError
from domain.metering.tokens import TokenUsage
from domain.providers import JSON, ProviderError, ProviderFailure
from formats.chat import Dumps, compact_json, tool_call, usage_to_openai
from formats.gemini.tables import finish_reason, gemini_finish_reason

IdFactory = Callable[[], str]


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


# ---------------------------------------------------------------- Gemini -> chat (the provider)


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


def objects_in(value: Any) -> list[JSON]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def candidate_parts(candidate: JSON) -> list[JSON]:
    content = candidate.get("content")
    return objects_in(content.get("parts")) if isinstance(content, dict) else []


def answer_text(parts: list[JSON]) -> str:
    """Answer text only: thought-summary parts (`thought: true`) are not the answer."""
    return "".join(
        part["text"]
        for part in parts
        if isinstance(part.get("text"), str) and not part.get("thought")
    )


def _tool_call(part: JSON, new_id: IdFactory, dumps: Dumps) -> JSON | None:
    call = part.get("functionCall")
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        return None
    args = call.get("args") if isinstance(call.get("args"), dict) else {}
    call_id = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else new_id()
    out = tool_call(call_id, call["name"], dumps(args))
    if isinstance(part.get("thoughtSignature"), str):
        out["extra_content"] = {"google": {"thought_signature": part["thoughtSignature"]}}
    return out


def tool_calls_of(parts: list[JSON], new_id: IdFactory, dumps: Dumps) -> list[JSON]:
    return [call for part in parts if (call := _tool_call(part, new_id, dumps)) is not None]


def candidate_index(candidate: JSON, default: int) -> int:
    index = candidate.get("index", default)
    return index if isinstance(index, int) and not isinstance(index, bool) else default


def blocked(response: JSON) -> bool:
    feedback = response.get("promptFeedback")
    return isinstance(feedback, dict) and bool(feedback.get("blockReason"))


def completion_id(response: JSON) -> str:
    response_id = response.get("responseId")
    return f"chatcmpl-{response_id if isinstance(response_id, str) else uuid.uuid4().hex}"


def chat_response_to_openai(
    response: JSON,
    model: str,
    *,
    created: int | None = None,
    new_id: IdFactory = new_call_id,
    dumps: Dumps = compact_json,
) -> JSON:
    """A Gemini `GenerateContentResponse` as an OpenAI `chat.completion` body."""
    choices = []
    for position, candidate in enumerate(objects_in(response.get("candidates"))):
        parts = candidate_parts(candidate)
        calls = tool_calls_of(parts, new_id, dumps)
        message: JSON = {
            "role": "assistant",
            "content": answer_text(parts) or None,
            "refusal": None,
        }
        if calls:
            message["tool_calls"] = calls
        choices.append(
            {
                "index": candidate_index(candidate, position),
                "message": message,
                "finish_reason": finish_reason(candidate.get("finishReason"), bool(calls)),
                "logprobs": None,
            }
        )
    if not choices:  # a blocked prompt answers no candidate at all
        reason = "content_filter" if blocked(response) else "stop"
        message = {"role": "assistant", "content": None, "refusal": None}
        choices.append({"index": 0, "message": message, "finish_reason": reason, "logprobs": None})
    body: JSON = {
        "id": completion_id(response),
        "object": "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": model,
        "choices": choices,
    }
    usage = usage_from_gemini(response.get("usageMetadata"))
    if usage is not None:
        body["usage"] = usage_to_openai(usage)
    return body


def openai_to_gemini_embeddings(body: JSON, batch: bool) -> JSON:
    data = sorted(body.get("data") or [], key=lambda d: d.get("index", 0))
    embeddings = [{"values": d.get("embedding")} for d in data]
    if batch:
        return {"embeddings": embeddings}
    return {"embedding": embeddings[0] if embeddings else {"values": []}}


# ---------------------------------------------------------------- chat -> Gemini (the routes)


def usage_metadata(usage: Any) -> JSON | None:
    """OpenAI usage in Gemini's classes: candidates exclude the reasoning (thoughts)."""
    if not isinstance(usage, dict):
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    cached = int(((usage.get("prompt_tokens_details") or {}).get("cached_tokens")) or 0)
    thoughts = int(((usage.get("completion_tokens_details") or {}).get("reasoning_tokens")) or 0)
    meta: JSON = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": completion - thoughts,
        "totalTokenCount": prompt + completion,
    }
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    if cached:
        meta["cachedContentTokenCount"] = cached
    return meta


def call_parts(tool_calls: Any) -> list[JSON]:
    parts = []
    for call in tool_calls or ():
        function = call.get("function") or {}
        try:
            args = json.loads(function.get("arguments") or "{}")
        except ValueError:
            args = {"arguments": function.get("arguments")}
        if not isinstance(args, dict):
            args = {"value": args}
        parts.append(
            {"functionCall": {"id": call.get("id"), "name": function.get("name"), "args": args}}
        )
    return parts


def response_id(openai_id: Any) -> str:
    return openai_id if isinstance(openai_id, str) and openai_id else uuid.uuid4().hex


def openai_to_gemini_response(body: JSON, model: str) -> JSON:
    candidates = []
    for position, choice in enumerate(body.get("choices") or ()):
        message = choice.get("message") or {}
        parts: list[JSON] = []
        if isinstance(message.get("content"), str) and message["content"]:
            parts.append({"text": message["content"]})
        parts.extend(call_parts(message.get("tool_calls")))
        candidate: JSON = {
            "content": {"role": "model", "parts": parts},
            "finishReason": gemini_finish_reason(choice.get("finish_reason")),
            "index": choice.get("index", position),
        }
        candidates.append(candidate)
    out: JSON = {
        "candidates": candidates,
        "modelVersion": model,
        "responseId": response_id(body.get("id")),
    }
    meta = usage_metadata(body.get("usage"))
    if meta is not None:
        out["usageMetadata"] = meta
    return out
