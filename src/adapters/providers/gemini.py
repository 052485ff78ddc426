"""Google Gemini behind the OpenAI-format port, over `generateContent`, `streamGenerateContent`
(SSE) and `batchEmbedContents`.

The key goes only in the `x-goog-api-key` header: a `?key=` URL leaks through library error
messages and logs (reliability-pitfalls 2.5). Nothing from the inbound request is forwarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Protocol, TypeVar
from urllib.parse import quote

import aiohttp
import orjson

from adapters.providers.gemini_embeddings import (
    embeddings_request_to_gemini,
    embeddings_response_to_openai,
)
from adapters.providers.gemini_native import (
    GeminiPassthrough,
    batch_embed_body,
    count_tokens_body,
    embedding_usage,
    with_model,
)
from adapters.providers.http import (
    Timeouts,
    Upstream,
    iter_sse,
    outbound_headers,
    provider_errors,
    sse_json,
)
from domain.byok.credentials import UpstreamCredential
from domain.catalog.models import Model
from domain.errors import ValidationError
from domain.metering.tokens import TokenUsage
from domain.providers import JSON, ChatStream, ProviderError, ProviderFailure, ProviderResponse
from formats.gemini.answers import chat_response_to_openai, usage_from_gemini
from formats.gemini.from_chat import chat_request_to_gemini
from formats.gemini.streams import GeminiToOpenAIStream

T = TypeVar("T")
_FORBIDDEN_IN_NAME = ("/", "?", "#", "..", "\\", "%")


def upstream_path(model: Model) -> str:
    """`models/{name}` for the URL, refusing names that could change the path or query. A
    leading `models/` (Google's own resource-name spelling) is accepted and dropped."""
    name = model.upstream_name.removeprefix("models/")
    if (
        not name
        or any(bad in name for bad in _FORBIDDEN_IN_NAME)
        or any(not char.isprintable() or char.isspace() for char in name)
    ):
        raise ProviderError(
            ProviderFailure.BAD_RESPONSE, f"invalid Gemini model name for {model.id}"
        )
    return f"models/{quote(name, safe='')}"


def _orjson_text(value: object) -> str:
    """Tool-call arguments as the provider has always encoded them (orjson: compact, UTF-8)."""
    return orjson.dumps(value).decode()


def _translated(translate: Callable[[], T]) -> T:
    """A request Gemini cannot express is the client's error: a 400 that no fallback fixes."""
    try:
        return translate()
    except ValidationError as exc:
        error = {"message": exc.message, "type": "invalid_request_error", "code": "invalid_value"}
        body = {"error": error}
        raise ProviderError(ProviderFailure.STATUS, exc.message, status=400, body=body) from exc


class GeminiProvider:
    """One Gemini endpoint. `base_url` is the host (`https://generativelanguage.googleapis.com`);
    `api_key` None sends no credential (a local proxy that adds its own)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str | None,
        timeouts: Timeouts,
    ) -> None:
        self._name = name
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeouts = timeouts
        self._upstream = Upstream(name, timeouts)

    async def _stream(
        self, model: Model, request: JSON, shaper: _StreamShaper | None
    ) -> GeminiChatStream:
        """Open `streamGenerateContent` and wait for its first event (within `first_byte`), so an
        upstream failing before any output raises here, where a fallback can still take over."""
        url = self._url(model, "streamGenerateContent") + "?alt=sse"
        started = time.monotonic()
        response = await self._upstream.open_stream(
            url, self._headers("text/event-stream"), request
        )
        stream = GeminiChatStream(response, self._name, self._timeouts, model.id, shaper)
        remaining = self._timeouts.first_byte - (time.monotonic() - started)
        await stream.prime(max(remaining, 0.0))
        return stream

    def _url(self, model: Model, method: str) -> str:
        return f"{self._base_url}/v1beta/{upstream_path(model)}:{method}"

    def with_credential(self, credential: UpstreamCredential) -> GeminiProvider:
        """This adapter with a client's own key (and base URL): the same pooled session."""
        view = copy.copy(self)
        view._api_key = credential.api_key
        if credential.base_url:
            view._base_url = credential.base_url.rstrip("/")
        return view

    def _headers(self, accept: str = "application/json") -> dict[str, str]:
        credentials = {"x-goog-api-key": self._api_key} if self._api_key else {}
        return outbound_headers(credentials, {"accept": accept})

    async def chat(self, model: Model, body: JSON) -> ProviderResponse:
        request = _translated(lambda: chat_request_to_gemini(body, loads=orjson.loads))
        url = self._url(model, "generateContent")
        raw = await self._upstream.post_json(url, self._headers(), request)
        usage = usage_from_gemini(raw.get("usageMetadata"))
        return ProviderResponse(chat_response_to_openai(raw, model.id, dumps=_orjson_text), usage)

    async def open_chat_stream(self, model: Model, body: JSON) -> ChatStream:
        """Returns once the first event arrived (within `first_byte`), so an upstream failing
        before any output raises here, where a fallback can still take over."""
        request = _translated(lambda: chat_request_to_gemini(body, loads=orjson.loads))
        return await self._stream(model, request, None)

    async def embed(self, model: Model, body: JSON) -> ProviderResponse:
        """Gemini reports no embedding tokens: the usage is an estimate (ceil(chars/4) per
        input), flagged so the usage record says so."""
        name = upstream_path(model).removeprefix("models/")
        request, texts = _translated(lambda: embeddings_request_to_gemini(body, name))
        url = self._url(model, "batchEmbedContents")
        raw = await self._upstream.post_json(url, self._headers(), request)
        out, usage = embeddings_response_to_openai(
            raw, model.id, texts, body.get("encoding_format")
        )
        return ProviderResponse(out, usage, usage_estimated=True)

    # --- Gemini's native API, relayed untranslated -------------------------------------

    async def generate(self, model: Model, body: JSON) -> ProviderResponse:
        url, request = self._url(model, "generateContent"), with_model(body, upstream_path(model))
        raw = await self._upstream.post_json(url, self._headers(), request)
        return ProviderResponse(raw, usage_from_gemini(raw.get("usageMetadata")))

    async def open_generate_stream(self, model: Model, body: JSON) -> GeminiChatStream:
        request = with_model(body, upstream_path(model))
        return await self._stream(model, request, GeminiPassthrough())

    async def count_tokens(self, model: Model, body: JSON) -> JSON:
        url = self._url(model, "countTokens")
        request = count_tokens_body(body, upstream_path(model))
        return await self._upstream.post_json(url, self._headers(), request)

    async def embed_contents(self, model: Model, body: JSON, batch: bool) -> ProviderResponse:
        """Gemini reports no embedding tokens: the usage is the estimate, flagged."""
        resource = upstream_path(model)
        if batch:
            url, request = self._url(model, "batchEmbedContents"), batch_embed_body(body, resource)
        else:
            url, request = self._url(model, "embedContent"), with_model(body, resource)
        raw = await self._upstream.post_json(url, self._headers(), request)
        return ProviderResponse(raw, embedding_usage(body, batch), usage_estimated=True)

    async def aclose(self) -> None:
        await self._upstream.aclose()


class _StreamShaper(Protocol):
    usage: TokenUsage | None

    def feed(self, event: JSON) -> list[JSON]: ...
    def finish(self) -> list[JSON]: ...


class GeminiChatStream:
    """An open Gemini SSE stream relayed as OpenAI chunks (see GeminiToOpenAIStream), or as
    Gemini's own events (GeminiPassthrough, the native relay). A failure
    mid-stream raises ProviderError carrying the last usage Gemini reported before it."""

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        provider: str,
        timeouts: Timeouts,
        model_id: str,
        shaper: _StreamShaper | None = None,
    ) -> None:
        self._response = response
        self._provider = provider
        self._events = iter_sse(response, provider, timeouts)
        self._translator: _StreamShaper = shaper or GeminiToOpenAIStream(
            model_id, dumps=_orjson_text
        )
        self._pending: list[JSON] = []
        self._ended = False
        self._closed = False
        self.usage: TokenUsage | None = None

    async def prime(self, within: float) -> None:
        """Read up to the first event; on failure the connection is released and it raises."""
        try:
            with provider_errors(self._provider):
                async with asyncio.timeout(within):
                    self._pending = await self._next_chunks()
        except BaseException:
            await self.aclose()
            raise

    async def _next_chunks(self) -> list[JSON]:
        """The chunks of the next event; sets `_ended` at the end of the stream."""
        try:
            event = await anext(self._events)
        except StopAsyncIteration:
            self._ended = True
            return []
        data = sse_json(event, self._provider)
        if not isinstance(data, dict):
            raise ProviderError(ProviderFailure.BAD_RESPONSE, f"{self._provider} sent a non-object")
        try:
            return self._translator.feed(data)
        finally:
            self.usage = self._translator.usage

    async def __aiter__(self) -> AsyncIterator[JSON]:
        try:
            pending, self._pending = self._pending, []
            for chunk in pending:
                yield chunk
            while not self._ended:
                for chunk in await self._next_chunks():
                    yield chunk
            for chunk in self._translator.finish():
                yield chunk
        except ProviderError as exc:
            if exc.usage is None:
                exc.usage = self.usage
            raise
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if isinstance(self._events, AsyncGenerator):
            with contextlib.suppress(RuntimeError):  # it may be mid-read in another task
                await self._events.aclose()
        self._response.release()
