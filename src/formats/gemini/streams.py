"""Streamed Gemini answers <-> OpenAI chat.completion.chunk objects."""

from __future__ import annotations

import time
import uuid

from domain.metering.tokens import TokenUsage
from domain.providers import JSON, ProviderError, ProviderFailure
from formats.chat import Dumps, compact_json, usage_to_openai
from formats.gemini.answers import (
    IdFactory,
    answer_text,
    blocked,
    call_parts,
    candidate_index,
    candidate_parts,
    completion_id,
    new_call_id,
    objects_in,
    response_id,
    tool_calls_of,
    usage_from_gemini,
    usage_metadata,
)
from formats.gemini.tables import finish_reason, gemini_finish_reason

# ---------------------------------------------------------------- Gemini -> chat (the provider)


class GeminiToOpenAIStream:
    """Turns each streamed `GenerateContentResponse` into OpenAI `chat.completion.chunk`s: a role
    chunk per choice first, then text and tool-call deltas, a finish chunk, and from `finish()`
    one usage chunk (`choices: []`). Usage keeps the LAST report: Gemini's are cumulative."""

    def __init__(
        self,
        model: str,
        *,
        created: int | None = None,
        new_id: IdFactory = new_call_id,
        dumps: Dumps = compact_json,
    ) -> None:
        self._model = model
        self._created = int(time.time()) if created is None else created
        self._new_id = new_id
        self._dumps = dumps
        self._id: str | None = None
        self._started: set[int] = set()
        self._finished: set[int] = set()
        self._tool_calls: dict[int, int] = {}  # choice index -> tool calls sent so far
        self.usage: TokenUsage | None = None

    def feed(self, event: JSON) -> list[JSON]:
        raise_stream_error(event, self.usage)
        if self._id is None:
            self._id = completion_id(event)
        if "usageMetadata" in event:
            self.usage = usage_from_gemini(event["usageMetadata"])  # replaces, never adds
        chunks: list[JSON] = []
        candidates = objects_in(event.get("candidates"))
        for position, candidate in enumerate(candidates):
            chunks.extend(self._candidate(candidate, position))
        if not candidates and blocked(event) and 0 not in self._finished:
            chunks.extend(self._start(0))
            chunks.append(self._finish(0, "content_filter"))
        return chunks

    def finish(self) -> list[JSON]:
        """The closing usage chunk, when Gemini reported any usage."""
        if self.usage is None:
            return []
        return [{**self._envelope(), "choices": [], "usage": usage_to_openai(self.usage)}]

    def _candidate(self, candidate: JSON, position: int) -> list[JSON]:
        index = candidate_index(candidate, position)
        chunks = self._start(index)
        parts = candidate_parts(candidate)
        if text := answer_text(parts):
            chunks.append(self._delta(index, {"content": text}))
        for call in tool_calls_of(parts, self._new_id, self._dumps):
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


# ---------------------------------------------------------------- chat -> Gemini (the routes)


class OpenAIToGeminiStream:
    """OpenAI chunks as streamed `GenerateContentResponse`s: text deltas pass as they come;
    tool calls (whose arguments arrive in pieces) and finish reasons are held for the last
    event, which carries the usage as Gemini's last chunk does."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._id: str | None = None
        self._calls: dict[int, dict[int, JSON]] = {}  # choice -> tool call index -> call
        self._finish: dict[int, str] = {}
        self._usage: JSON | None = None

    def _event(self, candidates: list[JSON]) -> JSON:
        return {"candidates": candidates, "modelVersion": self._model, "responseId": self._id}

    def feed(self, chunk: JSON) -> list[JSON]:
        self._id = self._id or response_id(chunk.get("id"))
        if chunk.get("usage"):
            self._usage = usage_metadata(chunk["usage"])
        candidates = []
        for choice in chunk.get("choices") or ():
            index = choice.get("index", 0)
            delta = choice.get("delta") or {}
            for call in delta.get("tool_calls") or ():
                held = self._calls.setdefault(index, {}).setdefault(
                    call.get("index", 0), {"id": None, "function": {"name": "", "arguments": ""}}
                )
                held["id"] = call.get("id") or held["id"]
                function = call.get("function") or {}
                held["function"]["name"] += function.get("name") or ""
                held["function"]["arguments"] += function.get("arguments") or ""
            if choice.get("finish_reason"):
                self._finish[index] = choice["finish_reason"]
            text = delta.get("content")
            if isinstance(text, str) and text:
                content = {"role": "model", "parts": [{"text": text}]}
                candidates.append({"content": content, "index": index})
        return [self._event(candidates)] if candidates else []

    def finish(self) -> list[JSON]:
        candidates = []
        for index in sorted(set(self._finish) | set(self._calls)):
            calls = [self._calls[index][i] for i in sorted(self._calls.get(index, {}))]
            # An empty text part when there is no call, as Gemini's own last chunk has: the
            # SDK's `chunk.text` is then "" rather than None.
            parts = call_parts(calls) or [{"text": ""}]
            candidate: JSON = {
                "content": {"role": "model", "parts": parts},
                "finishReason": gemini_finish_reason(self._finish.get(index, "stop")),
                "index": index,
            }
            candidates.append(candidate)
        event = self._event(candidates)
        if self._usage is not None:
            event["usageMetadata"] = self._usage
        return [event]
