"""What every provider adapter shares: one pooled aiohttp session per provider (the bare
passthrough's client; httpx on aiohttp's transport cost about twice the CPU per call, measured
with bench/provider_call.py), deadlines, the outbound header allow-list, server-sent events read
incrementally, and the translation of transport failures into ProviderError.

Secrets never reach an error: messages are built here from the failure kind, never from the
library exception (whose text can hold the URL or headers).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

import aiohttp
import certifi
import orjson
from yarl import URL

from domain.providers import JSON, ProviderError, ProviderFailure, Timeouts
from domain.tokens import TokenUsage

__all__ = ["Timeouts", "Upstream", "outbound_headers"]

# Outbound headers are built by the adapter itself (never copied from the inbound request);
# these characters would let a value inject headers of its own.
_FORBIDDEN_VALUE_CHARS = ("\r", "\n", "\0")


@functools.cache
def _trust_store() -> ssl.SSLContext:
    """Mozilla's CA bundle (certifi), as httpx and the providers' SDKs verify with, rather
    than whatever the host has; loaded once, when the first session opens."""
    return ssl.create_default_context(cafile=certifi.where())


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


@contextmanager
def provider_errors(provider: str) -> Iterator[None]:
    """Re-raise transport failures as ProviderError, with a message holding no URL or header.
    aiohttp's timeouts (connect, socket read, total) are all TimeoutErrors."""
    try:
        yield
    except ProviderError:
        raise
    except TimeoutError as exc:
        raise ProviderError(ProviderFailure.TIMEOUT, f"{provider} timed out") from exc
    except (aiohttp.ClientError, OSError) as exc:
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


def status_error(
    provider: str, status: int, headers: Mapping[str, str], raw: bytes
) -> ProviderError:
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


class Upstream:
    """One provider's connection pool: an aiohttp session opened on first use (aiohttp binds it
    to the running loop) and closed by `aclose`. It follows no redirect, reads no proxy or
    netrc from the environment and keeps no cookies: what goes out is only what the adapter
    built."""

    def __init__(self, provider: str, timeouts: Timeouts, max_connections: int = 200) -> None:
        self.provider = provider
        self.timeouts = timeouts
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        # A non-streamed answer may legitimately take minutes of silence to generate, so only
        # `connect` and `total` bound it (`first_byte` and `idle` are for streams).
        self._answer_timeout = aiohttp.ClientTimeout(
            total=timeouts.total, connect=timeouts.connect, sock_connect=timeouts.connect
        )
        # A stream: `idle` bounds every silence (each socket read); `first_byte` and `total`
        # are checked around it (open_stream, iter_sse).
        self._stream_timeout = aiohttp.ClientTimeout(
            connect=timeouts.connect, sock_connect=timeouts.connect, sock_read=timeouts.idle
        )

    def _opened(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, keepalive_timeout=5.0, ssl=_trust_store()
            )
            session = self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._answer_timeout,
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return session

    async def post_json(self, url: str | URL, headers: Mapping[str, str], body: JSON) -> JSON:
        """POST a JSON body and return the JSON answer, or raise ProviderError."""
        provider = self.provider
        with provider_errors(provider):
            async with self._opened().post(
                url,
                data=orjson.dumps(body),
                headers=headers,
                timeout=self._answer_timeout,
                allow_redirects=False,
            ) as response:
                raw = await response.read()
                if response.status >= 400:
                    raise status_error(provider, response.status, response.headers, raw)
        return parse_json(raw, provider)

    async def open_stream(
        self, url: str | URL, headers: Mapping[str, str], body: JSON
    ) -> aiohttp.ClientResponse:
        """Send a streaming request and wait for the status line (within `first_byte`); an error
        status is read whole and raised, so callers only ever see a 2xx stream. The caller
        releases the response (`release`), which closes its connection unless read to the end."""
        provider, timeouts = self.provider, self.timeouts
        with provider_errors(provider):
            async with asyncio.timeout(timeouts.first_byte):
                response = await self._opened().post(
                    url,
                    data=orjson.dumps(body),
                    headers=headers,
                    timeout=self._stream_timeout,
                    allow_redirects=False,
                )
            if response.status >= 400:
                try:
                    async with asyncio.timeout(timeouts.idle):
                        raw = await response.read()
                finally:
                    response.release()
                raise status_error(provider, response.status, response.headers, raw)
        return response

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


@dataclass(slots=True)
class SseEvent:
    event: str
    data: str


class SseParser:
    """Server-sent events from a stream's bytes as they arrive, per the SSE framing rules:
    lines end in LF, CRLF or CR (a CRLF may be split between two reads), the `data:` lines of
    one event are joined with LF, comments and unknown fields are skipped, a blank line ends an
    event. Text is UTF-8 (invalid bytes replaced), as the SSE format requires."""

    def __init__(self) -> None:
        self._partial: list[bytes] = []  # the bytes of a line not yet ended
        self._after_cr = False
        self._event = "message"
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[SseEvent]:
        if not chunk:
            return []
        if self._after_cr and chunk[:1] == b"\n":
            chunk = chunk[1:]  # the LF of a CRLF whose CR ended the previous read
        self._after_cr = chunk[-1:] == b"\r"
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if b"\n" not in chunk:
            if chunk:
                self._partial.append(chunk)  # joined once, when the line ends
            return []
        if self._partial:
            self._partial.append(chunk)
            chunk = b"".join(self._partial)
            self._partial.clear()
        *lines, rest = chunk.split(b"\n")
        if rest:
            self._partial.append(rest)
        events = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def end(self) -> list[SseEvent]:
        """At the end of the stream: a last line without its line end still counts, and an
        event without its blank line is still dispatched."""
        if self._partial:
            self._line(b"".join(self._partial))
            self._partial.clear()
        data, self._data = self._data, []
        return [SseEvent(self._event, "\n".join(data))] if data else []

    def _line(self, line: bytes) -> SseEvent | None:
        if not line:
            data, event = self._data, self._event
            self._event, self._data = "message", []
            return SseEvent(event, "\n".join(data)) if data else None
        field, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if field == b"data":
            self._data.append(value.decode("utf-8", "replace"))
        elif field == b"event":
            self._event = value.decode("utf-8", "replace")
        return None


async def iter_sse(
    response: aiohttp.ClientResponse, provider: str, timeouts: Timeouts
) -> AsyncIterator[SseEvent]:
    """Server-sent events of a 2xx streaming response, read as the bytes arrive; the total
    deadline is checked at every read (comment-only keep-alives included) and the idle one by
    the session's socket read timeout."""
    deadline = time.monotonic() + timeouts.total
    parser = SseParser()
    with provider_errors(provider):
        async for chunk in response.content.iter_any():
            if time.monotonic() > deadline:
                raise ProviderError(
                    ProviderFailure.TIMEOUT, f"{provider} stream exceeded its deadline"
                )
            for event in parser.feed(chunk):
                yield event
        for event in parser.end():
            yield event


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

    def __init__(self, response: aiohttp.ClientResponse, provider: str, timeouts: Timeouts) -> None:
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
            self._response.release()
