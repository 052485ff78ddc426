"""Anthropic's Messages API as a ModelProvider (OpenAI format, translated) and as a
NativeMessagesProvider (Anthropic format, relayed untranslated so caching and thinking survive).

`base_url` follows the anthropic SDK's convention: the host without `/v1`
(`https://api.anthropic.com`); requests go to `{base_url}/v1/messages`.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import AsyncGenerator
from typing import Any, cast

import aiohttp
from yarl import URL

from adapters.providers.http import (
    SseEvent,
    Timeouts,
    Upstream,
    iter_sse,
    outbound_headers,
    sse_json,
)
from domain.byok.credentials import UpstreamCredential
from domain.catalog.models import Model
from domain.providers import (
    JSON,
    ModelProvider,
    NativeMessagesProvider,
    ProviderError,
    ProviderFailure,
    ProviderResponse,
)
from formats.anthropic.answers import (
    StreamUsage,
    anthropic_to_openai_response,
    usage_from_anthropic,
)
from formats.anthropic.from_chat import openai_to_anthropic_request
from formats.anthropic.streams import AnthropicToOpenAIStream

__all__ = ["AnthropicProvider", "stream_error", "usage_from_anthropic"]

MESSAGES_PATH = "/v1/messages"

# Keys a client must never smuggle into an upstream body (credentials, endpoints, transport).
_FORBIDDEN_BODY_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "api_base",
        "base_url",
        "api_url",
        "url",
        "x-api-key",
        "authorization",
        "headers",
        "extra_headers",
        "extra_query",
        "extra_body",
    }
)

# Anthropic's error types and the HTTP status it uses for each.
_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def stream_error(provider: str, data: Any, usage: StreamUsage) -> ProviderError:
    """An in-stream `error` event as ProviderError, with the status Anthropic would have sent
    and whatever usage the stream had reported (it may be billed)."""
    body: JSON | None = data if isinstance(data, dict) else None
    error = body.get("error") if body is not None else None
    kind = error.get("type") if isinstance(error, dict) else None
    status = _ERROR_STATUS.get(str(kind), 500)
    return ProviderError(
        ProviderFailure.STATUS,
        f"{provider} stream failed with {kind or 'an error'} (HTTP {status})",
        status=status,
        body=body,
        usage=usage.usage,
    )


def native_body(body: JSON, model: Model, *, stream: bool) -> JSON:
    """A client's Messages body as sent upstream: the catalog's model name, our stream flag,
    and none of the credential- or endpoint-like keys."""
    out = {k: v for k, v in body.items() if k.lower() not in _FORBIDDEN_BODY_KEYS}
    out["model"] = model.upstream_name
    if stream:
        out["stream"] = True
    else:
        out.pop("stream", None)
    return out


class _Events:
    """The parsed events of an open Anthropic stream: pings skipped, `error` events raised,
    usage tracked, and a stream that ends before `message_stop` reported as broken."""

    def __init__(self, response: aiohttp.ClientResponse, provider: str, timeouts: Timeouts) -> None:
        self._response = response
        self._provider = provider
        self._sse = cast(AsyncGenerator[SseEvent, None], iter_sse(response, provider, timeouts))
        self.usage = StreamUsage()
        self.done = False
        self._closed = False

    async def next(self) -> tuple[str, JSON] | None:
        """The next event, or None after `message_stop`; raises ProviderError on failure."""
        if self.done:
            return None
        try:
            while True:
                try:
                    raw: SseEvent = await anext(self._sse)
                except StopAsyncIteration:
                    raise ProviderError(
                        ProviderFailure.CONNECTION,
                        f"{self._provider} stream ended before message_stop",
                        usage=self.usage.usage,
                    ) from None
                if raw.event == "ping":
                    continue
                data = sse_json(raw, self._provider)
                if not isinstance(data, dict):
                    raise ProviderError(
                        ProviderFailure.BAD_RESPONSE, f"{self._provider} sent a non-object event"
                    )
                name = raw.event if raw.event != "message" else str(data.get("type", ""))
                if name == "error":
                    raise stream_error(self._provider, data, self.usage)
                self._track(name, data)
                return name, data
        except ProviderError as exc:
            if exc.usage is None:
                exc.usage = self.usage.usage
            await self.aclose()
            raise
        except BaseException:
            await self.aclose()
            raise

    def _track(self, name: str, data: JSON) -> None:
        if name == "message_start":
            self.usage.update((data.get("message") or {}).get("usage"))
        elif name == "message_delta":
            self.usage.update(data.get("usage"))
        elif name == "message_stop":
            self.done = True

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._sse.aclose()
        finally:
            self._response.release()


class AnthropicMessagesStream:
    """A native stream: `(event_name, data)` pairs as Anthropic sent them, pings left out."""

    def __init__(self, events: _Events, first: tuple[str, JSON]) -> None:
        self._events = events
        self._pending: deque[tuple[str, JSON]] = deque([first])
        self.usage = events.usage.usage

    def __aiter__(self) -> AnthropicMessagesStream:
        return self

    async def __anext__(self) -> tuple[str, JSON]:
        if not self._pending:
            event = await self._events.next()
            self.usage = self._events.usage.usage
            if event is None:
                await self._events.aclose()
                raise StopAsyncIteration
            self._pending.append(event)
        return self._pending.popleft()

    async def aclose(self) -> None:
        await self._events.aclose()


class AnthropicChatStream:
    """A translated stream: OpenAI chat.completion.chunk objects, usage chunk last."""

    def __init__(
        self, events: _Events, first: tuple[str, JSON], translator: AnthropicToOpenAIStream
    ) -> None:
        self._events = events
        self._translator = translator
        self._pending: deque[JSON] = deque(translator.feed(*first))
        self.usage = events.usage.usage

    def __aiter__(self) -> AnthropicChatStream:
        return self

    async def __anext__(self) -> JSON:
        while not self._pending:
            event = await self._events.next()
            self.usage = self._events.usage.usage
            if event is None:
                await self._events.aclose()
                raise StopAsyncIteration
            self._pending.extend(self._translator.feed(*event))
        return self._pending.popleft()

    async def aclose(self) -> None:
        await self._events.aclose()


class AnthropicProvider(ModelProvider, NativeMessagesProvider):
    """One Anthropic account. Sends only the provider key (`x-api-key`) and `anthropic-version`;
    nothing from the inbound request's headers."""

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str | None,
        timeouts: Timeouts,
        anthropic_version: str = "2023-06-01",
    ) -> None:
        self.name = name
        self._timeouts = timeouts
        self._base_url = base_url
        self._version = anthropic_version
        self._upstream = Upstream(name, timeouts)
        self._use(base_url, {"x-api-key": api_key} if api_key else {})

    def _use(self, base_url: str, credentials: dict[str, str]) -> None:
        self._url = URL(base_url.rstrip("/") + MESSAGES_PATH)
        version = {"anthropic-version": self._version}
        self._headers = outbound_headers(credentials, version)
        self._stream_headers = outbound_headers(
            credentials, {**version, "accept": "text/event-stream"}
        )

    def with_credential(self, credential: UpstreamCredential) -> AnthropicProvider:
        """This adapter with a client's own key (and base URL): the same pooled session."""
        view = copy.copy(self)
        view._use(credential.base_url or self._base_url, {"x-api-key": credential.api_key})
        return view

    async def _post(self, body: JSON) -> JSON:
        return await self._upstream.post_json(self._url, self._headers, body)

    async def _open(self, body: JSON) -> tuple[_Events, tuple[str, JSON]]:
        """Open a stream and read its first event, so a failure before any output raises here."""
        response = await self._upstream.open_stream(self._url, self._stream_headers, body)
        events = _Events(response, self.name, self._timeouts)
        first = await events.next()
        if first is None:  # pragma: no cover - next() raises rather than end before message_stop
            raise ProviderError(ProviderFailure.BAD_RESPONSE, f"{self.name} sent an empty stream")
        return events, first

    async def chat(self, model: Model, body: JSON) -> ProviderResponse:
        request = openai_to_anthropic_request(body, model.upstream_name, model.max_output_tokens)
        answer = await self._post(request)
        return ProviderResponse(
            anthropic_to_openai_response(answer, model.id),
            usage_from_anthropic(answer.get("usage")),
        )

    async def open_chat_stream(self, model: Model, body: JSON) -> AnthropicChatStream:
        request = openai_to_anthropic_request(body, model.upstream_name, model.max_output_tokens)
        request["stream"] = True
        events, first = await self._open(request)
        return AnthropicChatStream(events, first, AnthropicToOpenAIStream(model.id))

    async def embed(self, model: Model, body: JSON) -> ProviderResponse:
        """Anthropic has no embeddings API: a client error, so no fallback is tried."""
        raise ProviderError(
            ProviderFailure.STATUS, f"{self.name} has no embeddings API", status=400
        )

    async def messages(self, model: Model, body: JSON) -> ProviderResponse:
        answer = await self._post(native_body(body, model, stream=False))
        return ProviderResponse(answer, usage_from_anthropic(answer.get("usage")))

    async def open_messages_stream(self, model: Model, body: JSON) -> AnthropicMessagesStream:
        events, first = await self._open(native_body(body, model, stream=True))
        return AnthropicMessagesStream(events, first)

    async def aclose(self) -> None:
        await self._upstream.aclose()
