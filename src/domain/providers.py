"""The model-provider port: one shape for every upstream, in OpenAI's chat format.

Adapters translate to and from their provider's wire format, so the gateway relays OpenAI-format
bodies and chunks whatever answered. Usage is parsed from the provider's own report into the
product's token convention (see domain.metering.tokens); None means the provider reported nothing
(an explicit zero is a report).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from domain.catalog.models import Model
from domain.errors import DomainError
from domain.metering.tokens import TokenUsage

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. `idle` is the longest silence between two chunks; `total` bounds the call."""

    connect: float = 10.0
    first_byte: float = 60.0
    idle: float = 60.0
    total: float = 600.0


class ProviderFailure(StrEnum):
    STATUS = "status"  # the provider answered with an error status
    TIMEOUT = "timeout"  # connect, first byte, idle or total deadline passed
    CONNECTION = "connection"  # could not connect, or the connection broke
    BAD_RESPONSE = "bad_response"  # the provider answered something unparseable


class ProviderError(DomainError):
    """A failed provider call. `message` never holds a credential or a URL with one."""

    code = "provider_error"

    def __init__(
        self,
        failure: ProviderFailure,
        message: str,
        *,
        status: int | None = None,
        retry_after: str | None = None,
        body: JSON | None = None,
        usage: TokenUsage | None = None,
    ) -> None:
        super().__init__(message)
        self.failure = failure
        self.status = status  # the provider's HTTP status, when it answered
        self.retry_after = retry_after
        self.body = body  # the provider's own error body, for client errors passed through
        self.usage = usage  # what the provider billed before failing, if it said

    @property
    def is_client_error(self) -> bool:
        """A 4xx other than 429: the request itself is wrong; fallbacks will not help."""
        return self.status is not None and 400 <= self.status < 500 and self.status != 429

    @property
    def triggers_fallback(self) -> bool:
        """5xx, timeout, broken connection or garbage: another model may answer."""
        if self.failure is ProviderFailure.STATUS:
            return self.status is not None and self.status >= 500
        return True


@dataclass(frozen=True, slots=True)
class ProviderResponse:
    """A complete (non-streamed) answer: an OpenAI-format body and the parsed usage."""

    body: JSON
    usage: TokenUsage | None
    usage_estimated: bool = False  # the provider reports no usage for this call (Gemini embeddings)


class ChatStream(Protocol):
    """An open streamed answer. Iterating yields OpenAI `chat.completion.chunk` objects; when the
    provider reports usage the last chunk carries it (`choices: []`, `usage: {...}`), as OpenAI
    sends it with `stream_options.include_usage`. After iteration `usage` holds the parsed report
    (the last one for cumulative reporters), or None. `aclose` releases the connection and is
    safe to call twice."""

    usage: TokenUsage | None

    def __aiter__(self) -> AsyncIterator[JSON]: ...
    async def aclose(self) -> None: ...


class ModelProvider(Protocol):
    """One upstream. Every method raises ProviderError, never a library exception, and
    never sends the client's own key or headers upstream."""

    async def chat(self, model: Model, body: JSON) -> ProviderResponse:
        """A non-streamed chat completion; `body` is an OpenAI chat request (model ignored:
        `model.upstream_name` is sent)."""
        ...

    async def open_chat_stream(self, model: Model, body: JSON) -> ChatStream:
        """Start a streamed completion; raises ProviderError if the provider fails before its
        first event, so nothing has reached the client yet."""
        ...

    async def embed(self, model: Model, body: JSON) -> ProviderResponse:
        """OpenAI-format embeddings request and response."""
        ...

    async def aclose(self) -> None: ...


class MessagesStream(Protocol):
    """An open Anthropic-format stream: yields `(event_name, data)` pairs exactly as Anthropic's
    Messages API sends them (message_start ... message_stop). `usage` is filled as in ChatStream."""

    usage: TokenUsage | None

    def __aiter__(self) -> AsyncIterator[tuple[str, JSON]]: ...
    async def aclose(self) -> None: ...


class NativeMessagesProvider(Protocol):
    """An upstream that speaks Anthropic's Messages API natively, so `/v1/messages` relays it
    untranslated (prompt caching and thinking blocks survive)."""

    async def messages(self, model: Model, body: JSON) -> ProviderResponse:
        """A non-streamed Messages call; the response body is Anthropic-format."""
        ...

    async def open_messages_stream(self, model: Model, body: JSON) -> MessagesStream: ...


class NativeResponsesProvider(Protocol):
    """An upstream that serves OpenAI's Responses API (`/responses`), so `/v1/responses` relays
    it untranslated. Streams yield `(event_name, data)` pairs as sent; the usage is on
    `response.completed` (or `.incomplete`, `.failed`)."""

    async def responses(self, model: Model, body: JSON) -> ProviderResponse:
        """A non-streamed Responses call; the response body is a Response object."""
        ...

    async def open_responses_stream(self, model: Model, body: JSON) -> MessagesStream: ...


class GeminiStream(Protocol):
    """An open Gemini-format stream: yields each `GenerateContentResponse` object exactly as
    `streamGenerateContent?alt=sse` sends it. `usage` holds the LAST `usageMetadata` parsed
    (Gemini's reports are cumulative), or None."""

    usage: TokenUsage | None

    def __aiter__(self) -> AsyncIterator[JSON]: ...
    async def aclose(self) -> None: ...


class NativeGeminiProvider(Protocol):
    """An upstream that speaks Gemini's native API, so `/v1beta/models/...` relays it
    untranslated. Bodies are Gemini-format both ways; the model in the URL (and in embedding
    requests) is replaced by `model.upstream_name`."""

    async def generate(self, model: Model, body: JSON) -> ProviderResponse: ...
    async def open_generate_stream(self, model: Model, body: JSON) -> GeminiStream: ...
    async def count_tokens(self, model: Model, body: JSON) -> JSON:
        """`countTokens`: free at Google, so nothing is metered."""
        ...

    async def embed_contents(self, model: Model, body: JSON, batch: bool) -> ProviderResponse:
        """`batchEmbedContents` (batch) or `embedContent`; usage is an estimate (flagged)."""
        ...


class ProviderRegistry(Protocol):
    """The configured upstreams by provider name (the `provider` of `provider/model`)."""

    def chat(self, provider: str) -> ModelProvider | None: ...
    def native_messages(self, provider: str) -> NativeMessagesProvider | None:
        """The provider if it speaks Anthropic's Messages API natively, else None."""
        ...

    def native_responses(self, provider: str) -> NativeResponsesProvider | None:
        """The provider if it serves OpenAI's Responses API, else None."""
        ...

    def native_gemini(self, provider: str) -> NativeGeminiProvider | None:
        """The provider if it speaks Gemini's native API, else None."""
        ...
