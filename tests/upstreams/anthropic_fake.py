"""A strict fake of Anthropic's Messages API, served for real over loopback in tests.

It refuses what Anthropic refuses: a wrong key (401; given as `x-api-key`, or as
`Authorization: Bearer`, which anthropic SDK 2.x sends), a missing `anthropic-version`
(400), unknown body keys ("Extra inputs are not permitted"), a missing or non-integer
`max_tokens`, turns that do not alternate user/assistant starting with user, unknown content
blocks, tool_result blocks that do not answer the previous assistant turn's tool_use, and a
system prompt that is neither a string nor text blocks. Answers are scripted per test with
`AnthropicScript`s queued on `AnthropicFake.enqueue`; requests are recorded in `fake.requests`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tests.upstreams.billing import anthropic_input_tokens

JSON = dict[str, Any]

REQUEST_KEYS = frozenset(
    {
        "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream",
        "temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier",
        "container", "mcp_servers", "context_management",
    }
)  # fmt: skip
USER_BLOCKS = frozenset({"text", "image", "document", "tool_result", "search_result"})
ASSISTANT_BLOCKS = frozenset({"text", "tool_use", "thinking", "redacted_thinking"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_body(error_type: str, message: str) -> JSON:
    return {"type": "error", "error": {"type": error_type, "message": message}}


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    input: JSON
    id: str = "toolu_01FakeToolCall"


@dataclass
class AnthropicScript:
    """One scripted answer. Defaults: a 200 with `text`, end_turn, and the token counts below."""

    text: str = "Hello from the fake Anthropic."
    tool: ToolCall | None = None  # answer with a tool_use block (after `text`, when non-empty)
    thinking: str | None = None  # a thinking block first (with a signature)
    stop_reason: str | None = None  # default: tool_use with a tool, else end_turn
    input_tokens: int = 12  # uncached input only, as Anthropic counts it
    output_tokens: int = 7
    cache_read: int = 0
    cache_write: int = 0
    status: int | None = None  # force this error status, with Anthropic's error body
    error_type: str | None = None  # default: the type Anthropic uses for `status`
    retry_after: str | None = None
    delay: float = 0.0  # seconds before the status line
    event_delay: float = 0.0  # seconds between stream events
    stream_error: str | None = None  # send this error type in-stream after the first delta
    drop_after: int | None = None  # cut the connection after this many stream events
    delta_repeats_input: bool = True  # message_delta.usage repeats the input classes
    bill: bool = False  # input and output computed from the request as the API bills

    def billing(self, body: JSON) -> AnthropicScript:
        """This script with the token counts the request would be billed (billing.py)."""
        if not self.bill:
            return self
        return replace(
            self,
            input_tokens=anthropic_input_tokens(body),
            output_tokens=int(body["max_tokens"]),
            cache_read=0,
            cache_write=0,
        )


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any


def _invalid(message: str) -> Response:
    return _json(400, error_body("invalid_request_error", message))


def _json(status: int, body: JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


# ---------------------------------------------------------------- validation


def _check_block(block: Any, role: str, where: str) -> str | None:
    if not isinstance(block, dict):
        return f"{where}: content blocks must be objects"
    kind = block.get("type")
    allowed = USER_BLOCKS if role == "user" else ASSISTANT_BLOCKS
    if not isinstance(kind, str) or kind not in allowed:  # a dict type is unhashable
        return f"{where}.type: block type {kind!r} is not allowed in {role} turns"
    if kind == "text" and (not isinstance(block.get("text"), str) or not block["text"]):
        return f"{where}: text content blocks must be non-empty"
    if kind == "image":
        source = block.get("source")
        if not isinstance(source, dict):
            return f"{where}.source: Field required"
        if source.get("type") == "base64":
            if source.get("media_type") not in IMAGE_TYPES or not source.get("data"):
                return f"{where}.source: invalid base64 image source"
        elif source.get("type") != "url" or not str(source.get("url", "")).startswith("http"):
            return f"{where}.source: invalid image source"
    if kind == "tool_use" and (
        not isinstance(block.get("id"), str)
        or not isinstance(block.get("name"), str)
        or not isinstance(block.get("input"), dict)
    ):
        return f"{where}: tool_use needs id, name and an object input"
    if kind == "tool_result":
        if not isinstance(block.get("tool_use_id"), str):
            return f"{where}.tool_use_id: Field required"
        content = block.get("content")
        if content is not None and not isinstance(content, str | list):
            return f"{where}.content: must be a string or blocks"
    return None


def _check_turn(index: int, turn: Any, previous_tool_ids: set[str]) -> str | None:
    where = f"messages.{index}"
    if not isinstance(turn, dict):
        return f"{where}: must be an object"
    role = turn.get("role")
    expected = "user" if index % 2 == 0 else "assistant"
    if role != expected:
        return f"{where}.role: roles must alternate between user and assistant, starting with user"
    content = turn.get("content")
    if isinstance(content, str):
        blocks: list[Any] = [{"type": "text", "text": content}] if content else []
        if not content and role == "user":
            return f"{where}: user messages must have non-empty content"
    elif isinstance(content, list) and content:
        blocks = content
    else:
        return f"{where}.content: must be a non-empty string or list of blocks"
    for position, block in enumerate(blocks):
        if error := _check_block(block, role, f"{where}.content.{position}"):
            return error
    results = [b["tool_use_id"] for b in blocks if b.get("type") == "tool_result"]
    kinds = [b.get("type") for b in blocks]
    if results and kinds[: len(results)] != ["tool_result"] * len(results):
        return f"{where}: tool_result blocks must come first in the user turn"
    if set(results) != previous_tool_ids:
        return (
            f"{where}: tool_use ids were found without tool_result blocks immediately after"
            if previous_tool_ids - set(results)
            else f"{where}: unexpected tool_use_id found in tool_result blocks"
        )
    return None


def validate(body: Any) -> str | None:
    """Anthropic's complaint about a request body, or None when it would be accepted."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    extra = sorted(set(body) - REQUEST_KEYS)
    if extra:
        return f"{extra[0]}: Extra inputs are not permitted"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        return "max_tokens: Field required (a positive integer)"
    if not _valid_system(body.get("system")):
        return "system: must be a string or a list of text blocks"
    temperature = body.get("temperature")
    if temperature is not None and not (
        isinstance(temperature, int | float) and 0 <= temperature <= 1
    ):
        return "temperature: must be between 0 and 1"
    stops = body.get("stop_sequences")
    if stops is not None and (
        not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)
    ):
        return "stop_sequences: must be a list of strings"
    if error := _check_tools(body):
        return error
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    tool_ids: set[str] = set()
    for index, turn in enumerate(messages):
        if error := _check_turn(index, turn, tool_ids if index % 2 == 0 else set()):
            return error
        content = turn["content"]
        tool_ids = {
            b["id"] for b in content if isinstance(content, list) and b.get("type") == "tool_use"
        }
    return None


def _valid_system(system: Any) -> bool:
    if system is None or isinstance(system, str):
        return True
    return isinstance(system, list) and all(
        isinstance(b, dict) and b.get("type") == "text" and b.get("text") for b in system
    )


def _check_tools(body: JSON) -> str | None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            return "tools: must be a list"
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
                return f"tools.{i}.name: Field required"
            schema = tool.get("input_schema")
            if not isinstance(schema, dict) or schema.get("type") != "object":
                return f"tools.{i}.input_schema: must be an object schema"
            if set(tool) - {"name", "description", "input_schema", "cache_control", "type"}:
                return f"tools.{i}: Extra inputs are not permitted"
    choice = body.get("tool_choice")
    if choice is not None:
        if not isinstance(choice, dict) or choice.get("type") not in (
            "auto",
            "any",
            "tool",
            "none",
        ):
            return "tool_choice: invalid"
        if choice["type"] == "tool" and not isinstance(choice.get("name"), str):
            return "tool_choice.name: Field required"
    return None


# ---------------------------------------------------------------- answers


def _content(script: AnthropicScript) -> list[JSON]:
    blocks: list[JSON] = []
    if script.thinking:
        blocks.append({"type": "thinking", "thinking": script.thinking, "signature": "sig-fake"})
    if script.text:
        blocks.append({"type": "text", "text": script.text})
    if script.tool:
        tool = script.tool
        blocks.append({"type": "tool_use", "id": tool.id, "name": tool.name, "input": tool.input})
    return blocks


def _stop_reason(script: AnthropicScript) -> str:
    return script.stop_reason or ("tool_use" if script.tool else "end_turn")


def _input_usage(script: AnthropicScript) -> JSON:
    return {
        "input_tokens": script.input_tokens,
        "cache_creation_input_tokens": script.cache_write,
        "cache_read_input_tokens": script.cache_read,
    }


def message_body(script: AnthropicScript, model: str, message_id: str) -> JSON:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _content(script),
        "stop_reason": _stop_reason(script),
        "stop_sequence": None,
        "usage": {**_input_usage(script), "output_tokens": script.output_tokens},
    }


def _pieces(text: str, parts: int = 3) -> list[str]:
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _block_events(index: int, block: JSON) -> list[tuple[str, JSON]]:
    kind = block["type"]
    if kind == "text":
        start: JSON = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"])]
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(block["thinking"])]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    else:
        start = {**block, "input": {}}
        raw = json.dumps(block["input"])
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in _pieces(raw, 2)]
    events: list[tuple[str, JSON]] = [
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        )
    ]
    events += [
        ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
        for d in deltas
    ]
    events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def stream_events(script: AnthropicScript, model: str, message_id: str) -> list[tuple[str, JSON]]:
    """The SSE events Anthropic sends for `script`, in order, pings included."""
    start = message_body(script, model, message_id)
    start.update(content=[], stop_reason=None)
    start["usage"] = {**_input_usage(script), "output_tokens": 1}
    events: list[tuple[str, JSON]] = [
        ("message_start", {"type": "message_start", "message": start}),
        ("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(_content(script)):
        events += _block_events(index, block)
    if script.stream_error:
        first_delta = next(i for i, (name, _) in enumerate(events) if name == "content_block_delta")
        error = error_body(script.stream_error, "forced in-stream failure")
        return [*events[: first_delta + 1], ("error", error)]
    usage: JSON = {"output_tokens": script.output_tokens}
    if script.delta_repeats_input:
        usage = {**_input_usage(script), **usage}
    delta = {"stop_reason": _stop_reason(script), "stop_sequence": None}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


class _SseResponse:
    """SSE framed as Anthropic frames it; `drop_after` returns without finishing the body, so the
    server cuts the connection mid-stream."""

    def __init__(self, events: list[tuple[str, JSON]], script: AnthropicScript) -> None:
        self.events = events
        self.script = script

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        disconnected = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            disconnected.set()

        watcher = asyncio.create_task(watch())
        try:
            await self._send_events(send, disconnected)
        finally:
            watcher.cancel()

    async def _send_events(self, send: Send, disconnected: asyncio.Event) -> None:
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"request-id", b"req_fake"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for count, (name, data) in enumerate(self.events):
            if self.script.drop_after is not None and count >= self.script.drop_after:
                return
            frame = b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
            await send({"type": "http.response.body", "body": frame, "more_body": True})
            if self.script.event_delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(disconnected.wait(), self.script.event_delay)
            if disconnected.is_set():  # the client went away: stop, as the real API would
                return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class AnthropicFake:
    """The fake's state: the expected key, queued scripts (a default one when empty) and the
    requests received. Shared with the server thread, hence the lock."""

    def __init__(self, api_key: str = "sk-ant-fake-provider-key") -> None:
        self.api_key = api_key
        self.client_keys: set[str] = set()  # clients' own keys, accepted too (BYOK)
        self.requests: list[RecordedRequest] = []
        self._scripts: deque[AnthropicScript] = deque()
        self._lock = threading.Lock()
        self._count = 0
        self.app = Starlette(
            routes=[
                Route("/v1/messages", self._messages, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    def enqueue(self, *scripts: AnthropicScript) -> None:
        with self._lock:
            self._scripts.extend(scripts)

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self.requests.clear()
            self.client_keys.clear()

    def _next(self, request: RecordedRequest) -> tuple[AnthropicScript, str]:
        with self._lock:
            self.requests.append(request)
            self._count += 1
            script = self._scripts.popleft() if self._scripts else AnthropicScript()
            return script, f"msg_01Fake{self._count:04d}"

    async def _models(self, request: Request) -> Response:
        """`GET /v1/models` (what `bizgraph doctor` asks), with Anthropic's header checks."""
        if request.headers.get("x-api-key") not in {self.api_key, *self.client_keys}:
            return _json(401, error_body("authentication_error", "invalid x-api-key"))
        if not request.headers.get("anthropic-version"):
            return _invalid("anthropic-version: header is required")
        model = {"type": "model", "id": "claude-test", "display_name": "Claude Test"}
        return _json(200, {"data": [model], "has_more": False})

    async def _messages(self, request: Request) -> Response | _SseResponse:
        raw = await request.body()
        try:
            body: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        recorded = RecordedRequest(request.url.path, dict(request.headers.items()), body)
        script, message_id = self._next(recorded)
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not {self.api_key, *self.client_keys} & {request.headers.get("x-api-key"), bearer}:
            return _json(401, error_body("authentication_error", "invalid x-api-key"))
        if not request.headers.get("anthropic-version"):
            return _invalid("anthropic-version: header is required")
        if body is None:
            return _invalid("There was an error parsing the body of your request")
        if error := validate(body):
            return _invalid(error)
        script = script.billing(body)
        if script.delay:
            await asyncio.sleep(script.delay)
        if script.status is not None:
            error_type = script.error_type or ERROR_TYPES.get(script.status, "api_error")
            headers = {"retry-after": script.retry_after} if script.retry_after else None
            return _json(script.status, error_body(error_type, "forced failure"), headers)
        if body.get("stream"):
            return _SseResponse(stream_events(script, body["model"], message_id), script)
        return _json(
            200, message_body(script, body["model"], message_id), {"request-id": "req_fake"}
        )


def tool_result_request(model: str = "claude-test") -> JSON:
    """A valid tools round trip, as Anthropic documents it (for tests of the fake itself)."""
    return {
        "model": model,
        "max_tokens": 64,
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "weather",
                        "input": {"city": "Paris"},
                    }
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"}],
            },
        ],
    }


__all__ = [
    "AnthropicFake",
    "AnthropicScript",
    "RecordedRequest",
    "ToolCall",
    "error_body",
    "message_body",
    "stream_events",
    "tool_result_request",
    "validate",
]
