"""A strict fake of OpenAI's REST API, served for real over loopback in tests.

It is stricter than most compatible servers on purpose: it refuses a wrong key, unknown body
keys (OpenAI answers 400 "Unrecognized request argument"), `stream_options` without `stream`, and
it only sends the usage chunk when `stream_options.include_usage` is true. Each test scripts the
answer through an `OpenAIScript` and reads back what was received in `script.requests`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tests.upstreams.asgi import pause, read_body
from tests.upstreams.billing import (
    openai_completion_tokens,
    openai_embedding_tokens,
    openai_prompt_tokens,
)
from tests.upstreams.openai_responses_fake import (
    response_body,
    stream_response,
    validate_responses,
)

JSON = dict[str, Any]

CHAT_PARAMS = frozenset(
    {
        "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
        "temperature", "top_p", "n", "stop", "presence_penalty", "frequency_penalty",
        "logit_bias", "logprobs", "top_logprobs", "user", "tools", "tool_choice",
        "parallel_tool_calls", "response_format", "seed", "service_tier", "store", "metadata",
        "reasoning_effort", "modalities", "audio", "prediction", "functions", "function_call",
        "web_search_options", "verbosity", "prompt_cache_key", "safety_identifier",
    }
)  # fmt: skip
EMBEDDING_PARAMS = frozenset({"model", "input", "encoding_format", "dimensions", "user"})
ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def openai_usage(prompt: int, completion: int, *, cached: int = 0, reasoning: int = 0) -> JSON:
    """A usage object exactly as OpenAI sends it."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def error_body(message: str, type_: str, code: str | None = None, param: str | None = None) -> JSON:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: list[tuple[str, str]]  # as received, lower-cased names, duplicates kept
    body: JSON | None

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name.lower()]
        return values[0] if values else None


@dataclass
class OpenAIScript:
    """What the fake answers. Defaults: a 200 with `reply` and `usage`."""

    api_key: str = "sk-fake-provider-key"
    reply: str = "Hello from the fake upstream."
    usage: JSON | None = field(default_factory=lambda: openai_usage(12, 7))
    status: int | None = None  # force this error status (with `error`, or a default body)
    error: JSON | None = None
    retry_after: str | None = None
    first_byte_delay: float = 0.0  # seconds before anything is sent
    garbage: bool = False  # non-JSON body, or a non-JSON stream event after the first chunk
    break_after: int | None = None  # stream: drop the connection after this many content chunks
    send_done: bool = True  # stream: end with `data: [DONE]`
    stream_error: JSON | None = None  # stream: send this in-band error object ...
    stream_error_first: bool = False  # ... before any chunk (else after the role chunk)
    null_usage_choices: bool = False  # stream: usage chunk with `choices: null` (as vLLM)
    embedding_dimensions: int = 4
    bill: bool = False  # usage computed from the request as the real API bills (billing.py)
    requests: list[RecordedRequest] = field(default_factory=list)
    client_keys: set[str] = field(default_factory=set)  # clients' own keys, accepted too (BYOK)

    def accepts(self, authorization: str | None) -> bool:
        return authorization in {f"Bearer {k}" for k in (self.api_key, *self.client_keys)}

    @property
    def last(self) -> RecordedRequest:
        return self.requests[-1]

    def usage_for(self, body: JSON) -> JSON | None:
        if not self.bill:
            return self.usage
        if "input" in body:
            prompt = openai_embedding_tokens(body["input"])
            return {"prompt_tokens": prompt, "total_tokens": prompt}
        return openai_usage(openai_prompt_tokens(body), openai_completion_tokens(body))


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    all_headers = [(b"content-type", b"application/json"), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


def _validate(path: str, body: Any) -> JSON | None:
    """The OpenAI 400 error for an invalid request, or None."""
    if not isinstance(body, dict):
        return error_body(
            "We could not parse the JSON body of your request.", "invalid_request_error"
        )
    chat = path.endswith("/chat/completions")
    allowed = CHAT_PARAMS if chat else EMBEDDING_PARAMS
    for key in body:
        if key not in allowed:
            return error_body(
                f"Unrecognized request argument supplied: {key}", "invalid_request_error"
            )
    if not isinstance(body.get("model"), str) or not body["model"]:
        return error_body(
            "you must provide a model parameter", "invalid_request_error", None, "model"
        )
    if chat:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return error_body(
                "'messages' must be a non-empty array", "invalid_request_error", None, "messages"
            )
        for m in messages:
            if not isinstance(m, dict) or m.get("role") not in ROLES:
                return error_body("Invalid message role", "invalid_request_error", None, "messages")
        if "stream_options" in body and body.get("stream") is not True:
            return error_body(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "invalid_request_error",
                None,
                "stream_options",
            )
    else:
        value = body.get("input")
        if not (isinstance(value, str) and value) and not (isinstance(value, list) and value):
            return error_body("'input' is invalid", "invalid_request_error", None, "input")
    return None


class _Endpoint:
    """One route as a raw ASGI app, so it can stall, stream or drop the connection at will."""

    def __init__(self, script: OpenAIScript) -> None:
        self.script = script

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        script = self.script
        raw = await read_body(receive)
        try:
            body: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        script.requests.append(RecordedRequest(scope["method"], scope["path"], headers, body))
        if await pause(receive, script.first_byte_delay):
            return
        if scope["method"] != "POST":
            await _respond(
                send, 405, orjson.dumps(error_body("Method not allowed", "invalid_request_error"))
            )
            return
        if not script.accepts(dict(headers).get("authorization")):
            message = "Incorrect API key provided."
            await _respond(
                send,
                401,
                orjson.dumps(error_body(message, "invalid_request_error", "invalid_api_key")),
            )
            return
        if script.status is not None:
            await self._forced_status(send)
            return
        if scope["path"].endswith("/responses") and isinstance(body, dict):
            problem = validate_responses(body)
        else:
            problem = _validate(scope["path"], body)
        if problem is not None:
            await _respond(send, 400, orjson.dumps(problem))
            return
        if scope["path"].endswith("/responses"):
            await self._responses(send, body)
        elif scope["path"].endswith("/embeddings"):
            await self._embeddings(send, body)
        elif body.get("stream") is True:
            await self._stream(send, body)
        else:
            await self._completion(send, body)

    async def _forced_status(self, send: Send) -> None:
        script = self.script
        status = script.status or 500
        default = error_body("The server had an error.", "server_error")
        if status == 429:
            default = error_body("Rate limit reached.", "requests", "rate_limit_exceeded")
        extra = [(b"retry-after", script.retry_after.encode())] if script.retry_after else []
        await _respond(send, status, orjson.dumps(script.error or default), extra)

    def _ident(self, body: JSON) -> JSON:
        return {
            "id": "chatcmpl-fake123",
            "created": int(time.time()),
            "model": f"{body['model']}-2025-01-01",
        }

    async def _completion(self, send: Send, body: JSON) -> None:
        script = self.script
        if script.garbage:
            await _respond(send, 200, b"<html>Bad gateway</html>")
            return
        answer: JSON = {
            **self._ident(body),
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": script.reply,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }
        if (usage := script.usage_for(body)) is not None:
            answer["usage"] = usage
        await _respond(send, 200, orjson.dumps(answer))

    async def _stream(self, send: Send, body: JSON) -> None:
        script = self.script
        options = body.get("stream_options") or {}
        include_usage = options.get("include_usage") is True
        base = {
            **self._ident(body),
            "object": "chat.completion.chunk",
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }
        extra: JSON = {"usage": None} if include_usage else {}

        def chunk(delta: JSON, finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return b"data: " + orjson.dumps({**base, "choices": [choice], **extra}) + b"\n\n"

        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream; charset=utf-8")],
            }
        )

        async def emit(data: bytes) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": True})

        if not (script.stream_error is not None and script.stream_error_first):
            await emit(chunk({"role": "assistant", "content": "", "refusal": None}))
        if script.stream_error is not None:
            await emit(b"data: " + orjson.dumps(script.stream_error) + b"\n\n")
            await send({"type": "http.response.body", "body": b""})
            return
        if script.garbage:
            await emit(b"data: {not json\n\n")
            await send({"type": "http.response.body", "body": b""})
            return
        for index, word in enumerate(script.reply.split(" ")):
            if script.break_after is not None and index >= script.break_after:
                raise ConnectionAbortedError("fake upstream drops the connection mid-stream")
            piece = word if index == 0 else " " + word
            await emit(chunk({"content": piece}))
        await emit(chunk({}, "stop"))
        if include_usage and (usage := script.usage_for(body)) is not None:
            final = {
                **base,
                "choices": None if script.null_usage_choices else [],
                "usage": usage,
            }
            await emit(b"data: " + orjson.dumps(final) + b"\n\n")
        if script.send_done:
            await emit(b"data: [DONE]\n\n")
        await send({"type": "http.response.body", "body": b""})

    async def _responses(self, send: Send, body: JSON) -> None:
        script = self.script
        if body.get("stream") is True:
            await stream_response(send, body, script.reply, script.usage, script.break_after)
        else:
            answer = response_body(body, script.reply, script.usage)
            await _respond(send, 200, orjson.dumps(answer))

    async def _embeddings(self, send: Send, body: JSON) -> None:
        script = self.script
        if script.garbage:
            await _respond(send, 200, b"not json at all")
            return
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": [0.5] * script.embedding_dimensions}
            for i in range(len(inputs))
        ]
        answer: JSON = {"object": "list", "data": data, "model": body["model"]}
        if (usage := script.usage_for(body)) is not None:
            prompt = usage.get("prompt_tokens", 0)
            answer["usage"] = {"prompt_tokens": prompt, "total_tokens": prompt}
        await _respond(send, 200, orjson.dumps(answer))


def openai_fake_app(script: OpenAIScript) -> Starlette:
    """The fake, answering under `/v1` (so the provider's base URL is `<server>/v1`)."""
    endpoint = _Endpoint(script)

    async def models(request: Request) -> Response:
        """`GET /v1/models` (what `bizgraph doctor` asks): the key checked as on every route."""
        if not script.accepts(request.headers.get("authorization")):
            error = error_body("Incorrect API key provided.", "invalid_request_error")
            return Response(orjson.dumps(error), 401, media_type="application/json")
        listing = {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]}
        return Response(orjson.dumps(listing), media_type="application/json")

    return Starlette(
        routes=[
            Route("/v1/chat/completions", endpoint, methods=["POST"]),
            Route("/v1/embeddings", endpoint, methods=["POST"]),
            Route("/v1/responses", endpoint, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
        ]
    )
