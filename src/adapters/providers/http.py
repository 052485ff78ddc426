"""What every provider adapter shares: one pooled httpx client on aiohttp's transport (measured
several times faster than httpx's default transport here), deadlines, the outbound header
allow-list and the translation of transport failures into ProviderError.

Secrets never reach an error: messages are built here from the failure kind, never from the
library exception (whose text can hold the URL or headers).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport

from domain.providers import JSON, ProviderError, ProviderFailure, Timeouts
from domain.tokens import TokenUsage

__all__ = ["Timeouts", "make_client", "open_stream", "outbound_headers", "post_json"]

# Outbound headers are built by the adapter itself (never copied from the inbound request);
# these characters would let a value inject headers of its own.
_FORBIDDEN_VALUE_CHARS = ("\r", "\n", "\0")


def make_client(base_url: str, timeouts: Timeouts, max_connections: int = 200) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=64)
    # Limits go on the transport: a client-level `limits=` is ignored with a custom transport.
    transport = AiohttpTransport(limits=limits, trust_env=False)
    return httpx.AsyncClient(
        base_url=base_url,
        transport=transport,
        timeout=httpx.Timeout(timeouts.idle, connect=timeouts.connect, pool=timeouts.connect),
        follow_redirects=False,
    )


def outbound_headers(
    credentials: Mapping[str, str], extra: Mapping[str, str] = {}
) -> dict[str, str]:
    """Content headers, then the adapter's extras, then the credential last so nothing overrides
    it. Values with CR, LF or NUL are refused (header injection)."""
    headers = {"content-type": "application/json", "accept": "application/json", **extra}
    headers.update(credentials)
    for name, value in headers.items():
        if any(c in value for c in _FORBIDDEN_VALUE_CHARS) or any(
            c in name for c in _FORBIDDEN_VALUE_CHARS
        ):
            raise ProviderError(ProviderFailure.BAD_RESPONSE, "invalid outbound header value")
    return headers


def _is_timeout(exc: BaseException) -> bool:
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        return True
    return isinstance(exc, httpx.TimeoutException) and not isinstance(
        cause, aiohttp.ClientConnectionError
    )


@contextmanager
def provider_errors(provider: str) -> Iterator[None]:
    """Re-raise transport failures as ProviderError, with a message holding no URL or header."""
    try:
        yield
    except ProviderError:
        raise
    except TimeoutError as exc:
        raise ProviderError(ProviderFailure.TIMEOUT, f"{provider} timed out") from exc
    except httpx.HTTPError as exc:
        if _is_timeout(exc):
            raise ProviderError(ProviderFailure.TIMEOUT, f"{provider} timed out") from exc
        raise ProviderError(
            ProviderFailure.CONNECTION, f"could not reach {provider} ({type(exc).__name__})"
        ) from exc
    except aiohttp.ClientError as exc:
        raise ProviderError(
            ProviderFailure.CONNECTION, f"could not reach {provider} ({type(exc).__name__})"
        ) from exc


def parse_json(raw: bytes, provider: str) -> JSON:
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProviderError(
            ProviderFailure.BAD_RESPONSE, f"{provider} answered with invalid JSON"
        ) from exc
    if not isinstance(parsed, dict):
        raise ProviderError(ProviderFailure.BAD_RESPONSE, f"{provider} answered a non-object")
    return parsed


def status_error(provider: str, status: int, headers: httpx.Headers, raw: bytes) -> ProviderError:
    """The provider's error status, with its own body kept for client errors passed through."""
    try:
        body: JSON | None = parse_json(raw, provider)
    except ProviderError:
        body = None
    return ProviderError(
        ProviderFailure.STATUS,
        f"{provider} answered HTTP {status}",
        status=status,
        retry_after=headers.get("retry-after"),
        body=body,
    )


async def post_json(
    client: httpx.AsyncClient,
    provider: str,
    path: str,
    headers: Mapping[str, str],
    body: JSON,
    timeouts: Timeouts,
) -> JSON:
    """POST a JSON body and return the JSON answer, or raise ProviderError. A non-streamed
    answer may legitimately take minutes of silence to generate, so only `connect` and `total`
    bound it (not `first_byte` or `idle`, which are for streams)."""
    waiting = httpx.Timeout(timeouts.total, connect=timeouts.connect, pool=timeouts.connect)
    with provider_errors(provider):
        async with asyncio.timeout(timeouts.total):
            response = await client.post(
                path, content=orjson.dumps(body), headers=headers, timeout=waiting
            )
    if response.status_code >= 400:
        raise status_error(provider, response.status_code, response.headers, response.content)
    return parse_json(response.content, provider)


async def open_stream(
    client: httpx.AsyncClient,
    provider: str,
    path: str,
    headers: Mapping[str, str],
    body: JSON,
    timeouts: Timeouts,
) -> httpx.Response:
    """Send a streaming request and wait for the status line (within `first_byte`); an error
    status is read whole and raised, so callers only ever see a 2xx stream."""
    request = client.build_request("POST", path, content=orjson.dumps(body), headers=headers)
    with provider_errors(provider):
        async with asyncio.timeout(timeouts.first_byte):
            response = await client.send(request, stream=True)
        if response.status_code >= 400:
            try:
                async with asyncio.timeout(timeouts.idle):
                    raw = await response.aread()
            finally:
                await response.aclose()
            raise status_error(provider, response.status_code, response.headers, raw)
    return response


@dataclass(slots=True)
class SseEvent:
    event: str
    data: str


async def iter_sse(
    response: httpx.Response, provider: str, timeouts: Timeouts
) -> AsyncIterator[SseEvent]:
    """Server-sent events of a 2xx streaming response, per the SSE framing rules (multi-line
    `data:`, comments, `event:`); the total deadline is checked between events and the idle
    one by the transport's read timeout."""
    deadline = time.monotonic() + timeouts.total
    event, data = "message", list[str]()
    with provider_errors(provider):
        async for line in response.aiter_lines():
            if time.monotonic() > deadline:
                raise ProviderError(
                    ProviderFailure.TIMEOUT, f"{provider} stream exceeded its deadline"
                )
            if not line:
                if data:
                    yield SseEvent(event, "\n".join(data))
                event, data = "message", list[str]()
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                data.append(value)
            elif field == "event":
                event = value
        if data:
            yield SseEvent(event, "\n".join(data))


def sse_json(event: SseEvent, provider: str) -> Any:
    try:
        return orjson.loads(event.data)
    except orjson.JSONDecodeError as exc:
        raise ProviderError(
            ProviderFailure.BAD_RESPONSE, f"{provider} sent an unparseable stream event"
        ) from exc


Item = TypeVar("Item")


class PrefetchedStream(Generic[Item]):
    """A relayed upstream stream whose first item is read before it is handed out (`start`), so
    an upstream that fails at once fails the call before the client sees a byte (fallbacks
    still apply). Subclasses parse the SSE events into items in `_items`, keeping `usage`."""

    def __init__(self, response: httpx.Response, provider: str, timeouts: Timeouts) -> None:
        self.usage: TokenUsage | None = None
        self._response = response
        self._provider = provider
        self._timeouts = timeouts
        self._events = self._items()
        self._first: Item | None = None
        self._closed = False

    def _items(self) -> AsyncGenerator[Item, None]:
        raise NotImplementedError

    async def start(self, deadline: float) -> None:
        """Wait for the first item until `deadline` (loop time: the first-byte deadline of the
        whole call, status line included); close on any failure."""
        try:
            with provider_errors(self._provider):
                async with asyncio.timeout_at(deadline):
                    self._first = await anext(self._events, None)
        except BaseException:
            await self.aclose()
            raise

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Item:
        first = self._first
        if first is not None:
            self._first = None
            return first
        return await anext(self._events)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._first = None
        try:
            # RuntimeError: another task is inside __anext__; closing the response ends it.
            with contextlib.suppress(RuntimeError):
                await self._events.aclose()
        finally:
            await self._response.aclose()
