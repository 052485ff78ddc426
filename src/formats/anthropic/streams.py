"""Anthropic stream events <-> OpenAI chat.completion.chunk objects."""

from __future__ import annotations

import time
from typing import Any

from domain.providers import JSON
from formats.anthropic.answers import StreamUsage, anthropic_usage, message_id
from formats.anthropic.tables import finish_reason, stop_reason
from formats.chat import usage_to_openai

Event = tuple[str, JSON]


# ---------------------------------------------------------------- chat -> Anthropic (the route)


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
        self._id = self._id or message_id(chunk_id)
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


# ---------------------------------------------------------------- Anthropic -> chat (the provider)


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
