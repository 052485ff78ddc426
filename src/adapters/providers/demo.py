"""The built-in `demo` provider: offline, deterministic, OpenAI-shaped.

It lets a newcomer run the whole flow (keys, metering, budgets, invoices) without a provider key,
so its answers look like OpenAI's to every SDK, its token counts are plausible (about four
characters a token, plus OpenAI's per-message overhead) and the same request always gets the same
answer, which also makes it a stable fixture for tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from collections.abc import AsyncGenerator
from datetime import UTC
from typing import Any

import orjson

from adapters.providers.openai import encode_embedding
from domain.catalog.models import Model, ModelKind
from domain.metering.tokens import TokenUsage
from domain.ports import Clock
from domain.providers import JSON, ProviderError, ProviderFailure, ProviderResponse
from formats.chat import usage_to_openai

DEMO_EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z: `created` when no clock is given
EMBEDDING_DIMENSIONS = 64
_MAX_DIMENSIONS = 3072
_TOKENS_PER_MESSAGE = 3  # OpenAI's chat framing overhead per message
_REPLY_PRIMING = 3  # and for the assistant reply it primes
_NON_TEXT_PART_TOKENS = 85  # an image or audio part, as OpenAI bills a low-detail image
_CHARS_PER_TOKEN = 4
_WORD_PIECES = re.compile(r"\S+\s*")

_OPENINGS = (
    "Here is a deterministic demo answer.",
    "The demo provider read your message carefully.",
    "This reply comes from Bizgraph's offline demo model.",
    "A demo answer, generated without calling any provider.",
)
_BODIES = (
    "Every call is metered per client, priced by its plan and shown on the dashboard.",
    "Token counts are estimated at about four characters a token, like a real model.",
    "Try a budget with a hard limit to see a call refused before it reaches a provider.",
    "Invoices add up to the cent: each usage line is rounded once, half to even.",
    "Switch to a real provider by setting its API key; nothing else changes for your clients.",
)


def approx_tokens(text: str) -> int:
    """About four characters a token, the usual rule of thumb for English text."""
    return math.ceil(len(text) / _CHARS_PER_TOKEN)


def _bad_request(
    message: str, param: str | None = None, code: str = "invalid_value"
) -> ProviderError:
    """A 400 as OpenAI sends it, with a specific code (as OpenAI's own validation gives)."""
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    body: JSON = {"error": error}
    return ProviderError(ProviderFailure.STATUS, message, status=400, body=body)


def _content_tokens(content: Any) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return approx_tokens(content)
    if isinstance(content, list):
        total = 0
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                total += approx_tokens(part["text"])
            else:
                total += _NON_TEXT_PART_TOKENS
        return total
    return approx_tokens(orjson.dumps(content).decode())


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def prompt_tokens(messages: list[JSON]) -> int:
    """OpenAI's counting shape: per-message overhead, the contents, the reply priming."""
    total = _REPLY_PRIMING
    for message in messages:
        total += _TOKENS_PER_MESSAGE + _content_tokens(message.get("content"))
        if isinstance(message.get("name"), str):
            total += 1 + approx_tokens(message["name"])
        if message.get("tool_calls") is not None:
            total += approx_tokens(orjson.dumps(message["tool_calls"]).decode())
    return total


def _definition_tokens(body: JSON) -> int:
    """Tool definitions and response schemas are read as prompt too, as real models do."""
    defined = [body[k] for k in ("tools", "functions", "response_format") if body.get(k)]
    return approx_tokens(orjson.dumps(defined).decode()) if defined else 0


def _validate_messages(body: JSON) -> list[JSON]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad_request("'messages' must be a non-empty array", "messages")
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise _bad_request("every message needs a 'role'", "messages")
    return messages


def _output_limit(model: Model, body: JSON) -> int:
    limit = model.max_output_tokens
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _bad_request(f"'{key}' must be a positive integer", key)
        limit = min(limit, value)
    return limit


def _reply_text(seed: bytes, messages: list[JSON]) -> str:
    last_user = next(
        (_content_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"),
        "",
    )
    words = last_user.split()[:5]
    echo = f'You said "{" ".join(words)}{"..." if len(last_user.split()) > 5 else ""}". '
    opening = _OPENINGS[seed[0] % len(_OPENINGS)]
    first = seed[1] % len(_BODIES)
    second = (first + 1 + seed[2] % (len(_BODIES) - 1)) % len(_BODIES)
    return f"{opening} {echo if words else ''}{_BODIES[first]} {_BODIES[second]}"


def _truncate(text: str, limit: int) -> tuple[str, str]:
    """The reply cut to at most `limit` tokens (at a word boundary when one fits)."""
    if approx_tokens(text) <= limit:
        return text, "stop"
    cut = text[: limit * _CHARS_PER_TOKEN]
    at_word = cut.rsplit(" ", 1)[0]
    return (at_word if at_word and at_word != cut else cut), "length"


def _seed(model: Model, body: JSON, *keys: str) -> bytes:
    material = orjson.dumps([model.id, *(body.get(k) for k in keys)], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(material).digest()


class _Completion:
    """One computed answer, rendered either whole or as chunks."""

    __slots__ = ("created", "finish_reason", "id", "model", "prompt", "text", "usage")

    def __init__(self, model: Model, body: JSON, created: int) -> None:
        if model.kind is not ModelKind.CHAT:
            raise _bad_request(
                f"{model.upstream_name} is not a chat model", "model", "model_kind_mismatch"
            )
        messages = _validate_messages(body)
        limit = _output_limit(model, body)
        seed = _seed(model, body, "messages", "max_tokens", "max_completion_tokens")
        self.text, self.finish_reason = _truncate(_reply_text(seed, messages), limit)
        self.prompt = prompt_tokens(messages) + _definition_tokens(body)
        completion = approx_tokens(self.text)
        self.usage = TokenUsage(input_tokens=self.prompt, output_tokens=completion)
        self.id = f"chatcmpl-demo-{seed.hex()[:24]}"
        self.model = model.upstream_name
        self.created = created

    def body(self) -> JSON:
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": self.finish_reason,
                }
            ],
            "usage": usage_to_openai(self.usage),
            "system_fingerprint": "fp_demo",
        }

    def _chunk(self, delta: JSON, finish_reason: str | None = None) -> JSON:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_demo",
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
            "usage": None,
        }

    def chunks(self) -> list[JSON]:
        """Role, one chunk per word, finish, then the usage chunk (`choices: []`), exactly as
        OpenAI streams with `stream_options.include_usage` (which the gateway always asks for)."""
        chunks = [self._chunk({"role": "assistant", "content": "", "refusal": None})]
        chunks.extend(self._chunk({"content": piece}) for piece in _WORD_PIECES.findall(self.text))
        chunks.append(self._chunk({}, self.finish_reason))
        usage_chunk = self._chunk({})
        usage_chunk["choices"] = []
        usage_chunk["usage"] = usage_to_openai(self.usage)
        chunks.append(usage_chunk)
        return chunks


class DemoChatStream:
    """Precomputed chunks; `usage` is set when the usage chunk goes out, as with a real stream
    (a consumer that stops early never sees it)."""

    __slots__ = ("_chunks", "_final_usage", "_iterator", "usage")

    def __init__(self, chunks: list[JSON], usage: TokenUsage, delay: float) -> None:
        self.usage: TokenUsage | None = None
        self._chunks = chunks
        self._final_usage = usage
        self._iterator = self._run(delay)

    async def _run(self, delay: float) -> AsyncGenerator[JSON, None]:
        for chunk in self._chunks:
            if delay:
                await asyncio.sleep(delay)
            if not chunk["choices"]:
                self.usage = self._final_usage
            yield chunk

    def __aiter__(self) -> DemoChatStream:
        return self

    async def __anext__(self) -> JSON:
        return await anext(self._iterator)

    async def aclose(self) -> None:
        await self._iterator.aclose()


def _embedding_inputs(body: JSON) -> list[Any]:
    value = body.get("input")
    if isinstance(value, str) or (
        isinstance(value, list) and value and all(isinstance(t, int) for t in value)
    ):
        items: list[Any] = [value]
    elif isinstance(value, list) and value:
        items = value
    else:
        raise _bad_request("'input' must be a string or a non-empty array", "input")
    for item in items:
        text_ok = isinstance(item, str) and item
        tokens_ok = isinstance(item, list) and item and all(isinstance(t, int) for t in item)
        if not (text_ok or tokens_ok):
            raise _bad_request("'input' items must be non-empty strings or token arrays", "input")
    return items


def _dimensions(body: JSON) -> int:
    value = body.get("dimensions", EMBEDDING_DIMENSIONS)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_DIMENSIONS:
        raise _bad_request("'dimensions' must be an integer from 1 to 3072", "dimensions")
    return value


def embedding_vector(model_id: str, item: str | list[int], dimensions: int) -> list[float]:
    """A unit-length vector expanded from a SHA-256 of the input: the same text always maps to
    the same point, different texts to unrelated ones."""
    material = orjson.dumps([model_id, item])
    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        block = hashlib.sha256(material + counter.to_bytes(4, "big")).digest()
        values.extend((b - 127.5) / 127.5 for b in block)
        counter += 1
    del values[dimensions:]
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def _encode(vector: list[float], encoding_format: Any) -> list[float] | str:
    if encoding_format not in (None, "float", "base64"):
        raise _bad_request("'encoding_format' must be 'float' or 'base64'", "encoding_format")
    return encode_embedding(vector, encoding_format)


class DemoProvider:
    """Answers `demo/chat`-like chat models and `demo/embed`-like embedding models offline.
    `clock` only feeds `created` (a fixed instant when None, so answers are byte-identical);
    `chunk_delay` paces streams for demos of the live dashboard."""

    name = "demo"

    def __init__(self, clock: Clock | None = None, chunk_delay: float = 0.0) -> None:
        self._clock = clock
        self._chunk_delay = chunk_delay

    def _created(self) -> int:
        if self._clock is None:
            return DEMO_EPOCH
        return int(self._clock.now().astimezone(UTC).timestamp())

    async def chat(self, model: Model, body: JSON) -> ProviderResponse:
        completion = _Completion(model, body, self._created())
        return ProviderResponse(body=completion.body(), usage=completion.usage)

    async def open_chat_stream(self, model: Model, body: JSON) -> DemoChatStream:
        completion = _Completion(model, body, self._created())
        return DemoChatStream(completion.chunks(), completion.usage, self._chunk_delay)

    async def embed(self, model: Model, body: JSON) -> ProviderResponse:
        if model.kind is not ModelKind.EMBEDDING:
            raise _bad_request(
                f"{model.upstream_name} is not an embedding model", "model", "model_kind_mismatch"
            )
        items = _embedding_inputs(body)
        dimensions = _dimensions(body)
        encoding_format = body.get("encoding_format")
        data = [
            {
                "object": "embedding",
                "index": index,
                "embedding": _encode(embedding_vector(model.id, item, dimensions), encoding_format),
            }
            for index, item in enumerate(items)
        ]
        tokens = sum(approx_tokens(i) if isinstance(i, str) else len(i) for i in items)
        answer = {
            "object": "list",
            "data": data,
            "model": model.upstream_name,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return ProviderResponse(body=answer, usage=TokenUsage(input_tokens=tokens))

    async def aclose(self) -> None:
        return None


__all__ = ["DEMO_EPOCH", "EMBEDDING_DIMENSIONS", "DemoChatStream", "DemoProvider"]
