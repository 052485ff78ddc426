"""Chat chunk streams as Responses API semantic events."""

from __future__ import annotations

from typing import Any

from domain.providers import JSON
from formats.responses.answers import (
    call_item,
    finish,
    message_item,
    new_id,
    response_shell,
    responses_usage,
    text_part,
)

Event = tuple[str, JSON]


class ChatToResponsesStream:
    """Turns chat.completion.chunk objects into the Responses stream's semantic events, each
    with its `sequence_number`. The usage comes after the finish chunk, so the closing events
    (`response.completed` or `response.incomplete`) are sent by `finish()`."""

    def __init__(self, request: JSON, model: str) -> None:
        self._response = response_shell(request, new_id("resp"), model)
        self._sequence = 0
        self._output: list[JSON] = []  # items, in output_index order
        self._text: int | None = None  # output_index of the open message item
        self._calls: dict[int, int] = {}  # chat tool_calls index -> output_index (open)
        self._finish_reason: Any = None
        self._usage: Any = None

    def _event(self, kind: str, **fields: Any) -> Event:
        data = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return kind, data

    def start(self) -> list[Event]:
        return [
            self._event("response.created", response=dict(self._response)),
            self._event("response.in_progress", response=dict(self._response)),
        ]

    def feed(self, chunk: JSON) -> list[Event]:
        events: list[Event] = []
        if isinstance(chunk.get("usage"), dict):
            self._usage = chunk["usage"]
        for choice in (chunk.get("choices") or [])[:1]:
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str) and delta["content"]:
                events.extend(self._text_delta(delta["content"]))
            for call in delta.get("tool_calls") or []:
                events.extend(self._call_delta(call))
            if choice.get("finish_reason"):
                self._finish_reason = choice["finish_reason"]
        return events

    def _text_delta(self, text: str) -> list[Event]:
        events: list[Event] = []
        if self._text is None:
            self._text = len(self._output)
            item = message_item(new_id("msg"), [], "in_progress")
            self._output.append(item)
            events.append(
                self._event("response.output_item.added", output_index=self._text, item=dict(item))
            )
            item["content"].append(text_part(""))
            events.append(
                self._event(
                    "response.content_part.added",
                    item_id=item["id"],
                    output_index=self._text,
                    content_index=0,
                    part=text_part(""),
                )
            )
        item = self._output[self._text]
        item["content"][0]["text"] += text
        events.append(
            self._event(
                "response.output_text.delta",
                item_id=item["id"],
                output_index=self._text,
                content_index=0,
                delta=text,
                logprobs=[],
            )
        )
        return events

    def _close_text(self) -> list[Event]:
        if self._text is None:
            return []
        index, self._text = self._text, None
        item = self._output[index]
        part = item["content"][0]
        item["status"] = "completed"
        common = {"item_id": item["id"], "output_index": index, "content_index": 0}
        return [
            self._event("response.output_text.done", **common, text=part["text"], logprobs=[]),
            self._event("response.content_part.done", **common, part=dict(part)),
            self._event("response.output_item.done", output_index=index, item=dict(item)),
        ]

    def _call_delta(self, call: JSON) -> list[Event]:
        position = call.get("index", 0)
        function = call.get("function") or {}
        events: list[Event] = []
        if position not in self._calls:
            events.extend(self._close_text())
            index = len(self._output)
            self._calls[position] = index
            item = call_item(
                new_id("fc"),
                str(call.get("id") or new_id("call")),
                str(function.get("name") or ""),
                "",
                "in_progress",
            )
            self._output.append(item)
            events.append(
                self._event("response.output_item.added", output_index=index, item=dict(item))
            )
        index = self._calls[position]
        item = self._output[index]
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            item["arguments"] += arguments
            events.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=arguments,
                )
            )
        return events

    def _close_calls(self) -> list[Event]:
        events: list[Event] = []
        for index in sorted(self._calls.values()):
            item = self._output[index]
            item["status"] = "completed"
            events.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=index,
                    name=item["name"],
                    arguments=item["arguments"],
                )
            )
            events.append(
                self._event("response.output_item.done", output_index=index, item=dict(item))
            )
        self._calls.clear()
        return events

    def finish(self) -> list[Event]:
        """Close every open item, then `response.completed` (or `.incomplete`) with the whole
        output and the usage."""
        events = self._close_text() + self._close_calls()
        response = dict(self._response)
        response["output"] = self._output
        finish(response, self._finish_reason, self._usage)
        kind = "response.completed" if response["status"] == "completed" else "response.incomplete"
        events.append(self._event(kind, response=response))
        return events

    def fail(self, code: str, message: str) -> list[Event]:
        """The stream broke upstream: close what is open and say `response.failed`."""
        events = self._close_text() + self._close_calls()
        response = dict(self._response)
        response["output"] = self._output
        response["status"] = "failed"
        response["error"] = {"code": code, "message": message}
        response["usage"] = responses_usage(self._usage)
        events.append(self._event("response.failed", response=response))
        return events
