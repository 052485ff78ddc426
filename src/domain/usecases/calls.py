"""Model calls: try the model and its fallbacks, relay the answer, settle every attempt.

Every attempt that reached a provider is settled once, at its own model's price: a success with
the provider's usage (or an estimate, flagged, when it reported none although output reached
the client), a failure with zero usage unless the provider said what it billed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from domain.catalog.models import Model
from domain.errors import ValidationError
from domain.metering.estimates import estimate_usage
from domain.metering.request_bounds import RequestBound
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageSource
from domain.providers import (
    JSON,
    ModelProvider,
    NativeGeminiProvider,
    NativeMessagesProvider,
    NativeResponsesProvider,
    ProviderError,
    ProviderFailure,
    ProviderRegistry,
    ProviderResponse,
)
from domain.runtime_ports import MeteredStream, Outcome, RelayedStream, Relays
from domain.telemetry import NO_TELEMETRY, Telemetry, note_model, note_upstream
from domain.tracing import (
    GEN_AI_INPUT_TOKENS,
    GEN_AI_OPERATION,
    GEN_AI_OUTPUT_TOKENS,
    GEN_AI_PROVIDER,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_SYSTEM,
    Span,
    SpanKind,
    error_type,
    gen_ai_provider,
)
from domain.usecases.metering import Attempt, CallGrant, Metering, PricedModel

T = TypeVar("T")


class CallKind(StrEnum):
    CHAT = "chat"
    EMBEDDING = "embedding"
    MESSAGES = "messages"  # Anthropic-native, relayed untranslated
    RESPONSES = "responses"  # OpenAI's Responses API, relayed untranslated
    GEMINI = "gemini"  # Gemini-native generateContent, relayed untranslated
    GEMINI_EMBED = "gemini_embed"  # Gemini-native embedContent
    GEMINI_BATCH_EMBED = "gemini_batch_embed"  # Gemini-native batchEmbedContents


_GEMINI_KINDS = frozenset({CallKind.GEMINI, CallKind.GEMINI_EMBED, CallKind.GEMINI_BATCH_EMBED})
# `gen_ai.operation.name` of each kind (GenAI semantic conventions' well-known values)
_OPERATIONS = MappingProxyType(
    {
        CallKind.CHAT: "chat",
        CallKind.MESSAGES: "chat",
        CallKind.RESPONSES: "chat",
        CallKind.GEMINI: "generate_content",
        CallKind.EMBEDDING: "embeddings",
        CallKind.GEMINI_EMBED: "embeddings",
        CallKind.GEMINI_BATCH_EMBED: "embeddings",
    }
)


@dataclass(frozen=True, slots=True)
class CallRequest:
    kind: CallKind
    body: JSON
    bound: RequestBound  # what the request can bill at most (the hold, the estimates)

    @property
    def prompt_chars(self) -> int:
        """Size of the prompt, for the estimate when a provider reports nothing."""
        return self.bound.prompt_chars


@dataclass(frozen=True, slots=True)
class Completed:
    body: JSON
    answered_by: PricedModel


@dataclass(frozen=True, slots=True)
class Streaming:
    relay: RelayedStream
    answered_by: PricedModel


class ModelCalls:
    def __init__(
        self,
        metering: Metering,
        providers: ProviderRegistry,
        drain_seconds: float,
        checkpoint_seconds: float = 2.0,
        telemetry: Telemetry = NO_TELEMETRY,
        *,
        relays: Relays,
    ) -> None:
        """`relays`: the application's relay pool, which streams are read through."""
        self._metering = metering
        self._relays = relays
        self._telemetry = telemetry
        self._providers = providers
        self._drain_seconds = drain_seconds
        self._checkpoint_seconds = checkpoint_seconds  # streams note their output this often

    def can_serve(self, model: Model) -> bool:
        """Whether the model's provider is configured on this gateway."""
        return self._providers.chat(model.provider) is not None

    def speaks_messages(self, model: Model) -> bool:
        """Whether the model's provider relays Anthropic's Messages API untranslated."""
        return self._providers.native_messages(model.provider) is not None

    def speaks_responses(self, model: Model) -> bool:
        """Whether the model's provider, and that of every fallback configured here, relays
        OpenAI's Responses API untranslated (one body then serves every attempt)."""
        providers = [model.provider, *(f.partition("/")[0] for f in model.fallbacks)]
        return self._providers.native_responses(model.provider) is not None and all(
            self._providers.native_responses(p) is not None
            for p in providers
            if self._providers.chat(p) is not None
        )

    def speaks_gemini(self, model: Model) -> bool:
        """Whether the model's provider relays Gemini's native API untranslated."""
        return self._providers.native_gemini(model.provider) is not None

    async def count_tokens(self, model: Model, body: JSON) -> JSON:
        """Gemini's `countTokens`, relayed: free at Google, so neither held nor metered."""
        return await self._gemini(model).count_tokens(model, body)

    async def complete(self, grant: CallGrant, request: CallRequest) -> Completed:
        attempts: list[Attempt] = []
        try:
            number, target, started, upstream, response = await self._first_answer(
                grant, request, attempts, lambda target: self._send(target, request)
            )
            self._upstream(target, started)
            usage, source = _usage_or_estimate(response, request, target.model)
            attempts.append(_succeeded(number, target, usage, source, started))
            _answered(upstream, usage, source, _reported_model(upstream, response.body))
            return Completed(response.body, target)
        finally:
            await self._settle(grant, attempts)

    async def open_stream(
        self, grant: CallGrant, request: CallRequest, chars_of: Callable[[Any], int]
    ) -> Streaming:
        """Open the stream on the first target that yields a first event; fallbacks apply
        until then, since nothing has reached the client yet."""
        attempts: list[Attempt] = []
        try:
            number, target, started, upstream, (stream, first) = await self._first_answer(
                grant, request, attempts, lambda target: self._first_event(target, request)
            )
        except BaseException:
            await self._settle(grant, attempts)
            raise
        # Read now: the route rewrites the chunk's model once it is relayed.
        reported = _reported_model(upstream, first)
        attempt = _OpenAttempt(number, target, started, stream, upstream, reported)
        grant.trace.extend()  # the call's span ends once the relay settled (_stream_settler)
        settle = self._stream_settler(grant, request, attempts, attempt, grant.trace.child("relay"))
        rid, metering = grant.request_id, self._metering
        relay = self._relays.start(
            stream,
            first,
            chars_of,
            settle,
            self._drain_seconds,
            checkpoint=lambda chars: metering.checkpoint(rid, chars),
            checkpoint_seconds=self._checkpoint_seconds,
        )
        return Streaming(relay, target)

    async def _first_answer(
        self,
        grant: CallGrant,
        request: CallRequest,
        attempts: list[Attempt],
        call: Callable[[PricedModel], Awaitable[T]],
    ) -> tuple[int, PricedModel, float, Span, T]:
        """Try the model, then its fallbacks, until one answers. Every failed attempt is
        appended to `attempts`; a failure no fallback can help is raised at once, and so is
        the last one when the hold cannot cover a fallback on top of what was billed. Each
        attempt has its upstream span; the answering one's is returned open, for its usage."""
        last_error: ProviderError | None = None
        async for number, target in self._targets(grant, request.kind):
            billed = any(a.usage.total_tokens for a in attempts)
            if (
                billed
                and last_error is not None
                and not await self._metering.covers(grant, request.bound, attempts, target)
            ):
                raise last_error
            if number:
                self._telemetry.fallback(grant.target.model.id)
            started = time.monotonic()
            upstream = _upstream_span(grant.trace, target.model, request.kind)
            try:
                with upstream.carrying():
                    answer = await call(target)
            except ProviderError as exc:
                upstream.fail(_provider_error_type(exc))
                upstream.end()
                attempts.append(_failed(number, target, exc, started))
                self._upstream(target, started)
                if not exc.triggers_fallback:
                    raise
                last_error = exc
                continue
            except BaseException as exc:
                upstream.fail(error_type(exc))
                upstream.end()
                self._upstream(target, started)
                raise
            note_model(target.model.id, target.model.provider)
            return number, target, started, upstream, answer
        raise last_error or _unconfigured(grant.target.model.provider)

    def _upstream(self, target: PricedModel, started: float) -> None:
        seconds = time.monotonic() - started
        self._telemetry.upstream(target.model.provider, seconds)
        note_upstream(seconds)

    async def _settle(self, grant: CallGrant, attempts: list[Attempt]) -> None:
        with grant.trace.child("settle"):
            await _shielded(self._metering.settle(grant, attempts))

    def _stream_settler(
        self,
        grant: CallGrant,
        request: CallRequest,
        earlier: list[Attempt],
        attempt: _OpenAttempt,
        relay: Span,
    ) -> Callable[[Outcome], Awaitable[None]]:
        async def settle(outcome: Outcome) -> None:
            try:
                reported = (outcome.error.usage if outcome.error else None) or attempt.stream.usage
                if reported is not None:
                    usage, source = reported, UsageSource.REPORTED
                else:
                    usage = _estimate(request, outcome.output_chars, attempt.target.model)
                    source = UsageSource.ESTIMATED
                status = CallStatus.FAILED if outcome.error else CallStatus.SUCCEEDED
                self._upstream(attempt.target, attempt.started)  # to the stream's end
                last = Attempt(
                    attempt.number,
                    attempt.target,
                    usage,
                    source,
                    status,
                    _ms_since(attempt.started),
                )
                _relayed(relay, attempt, outcome, usage, source, grant.trace)
                await self._settle(grant, [*earlier, last])
            finally:
                grant.trace.end()

        return settle

    async def _first_event(
        self, target: PricedModel, request: CallRequest
    ) -> tuple[MeteredStream, Any]:
        stream = await self._open(target, request)
        iterator = aiter(stream)
        try:
            first = await anext(iterator)
        except StopAsyncIteration:
            await stream.aclose()
            raise ProviderError(
                ProviderFailure.BAD_RESPONSE, "the provider closed the stream without output"
            ) from None
        except BaseException:
            await stream.aclose()
            raise
        return _Resumed(stream, iterator), first

    async def _targets(
        self, grant: CallGrant, kind: CallKind
    ) -> AsyncIterator[tuple[int, PricedModel]]:
        """The model asked for, then its fallbacks whose provider is configured (and, for a
        Gemini-native body, speaks Gemini's API: no other can take it untranslated)."""
        yield 0, grant.target
        native_gemini = kind in _GEMINI_KINDS
        for number, model_id in enumerate(grant.target.model.fallbacks, start=1):
            target = await self._metering.fallback(grant, model_id)
            if target is None or not self.can_serve(target.model):
                continue
            if native_gemini and not self.speaks_gemini(target.model):
                continue
            yield number, target

    async def _send(self, target: PricedModel, request: CallRequest) -> ProviderResponse:
        model, body = target.model, request.body
        if request.kind is CallKind.MESSAGES:
            return await self._native(model).messages(model, body)
        if request.kind is CallKind.RESPONSES:
            return await self._responses(model).responses(model, body)
        if request.kind is CallKind.EMBEDDING:
            return await self._provider(model).embed(model, body)
        if request.kind is CallKind.GEMINI:
            return await self._gemini(model).generate(model, body)
        if request.kind in (CallKind.GEMINI_EMBED, CallKind.GEMINI_BATCH_EMBED):
            batch = request.kind is CallKind.GEMINI_BATCH_EMBED
            return await self._gemini(model).embed_contents(model, body, batch)
        return await self._provider(model).chat(model, body)

    async def _open(self, target: PricedModel, request: CallRequest) -> MeteredStream:
        model, body = target.model, request.body
        if request.kind is CallKind.MESSAGES:
            return await self._native(model).open_messages_stream(model, body)
        if request.kind is CallKind.RESPONSES:
            return await self._responses(model).open_responses_stream(model, body)
        if request.kind is CallKind.GEMINI:
            return await self._gemini(model).open_generate_stream(model, body)
        return await self._provider(model).open_chat_stream(model, body)

    def _provider(self, model: Model) -> ModelProvider:
        provider = self._providers.chat(model.provider)
        if provider is None:
            raise _unconfigured(model.provider)
        return provider

    def _native(self, model: Model) -> NativeMessagesProvider:
        native = self._providers.native_messages(model.provider)
        if native is None:
            raise ValidationError(f"{model.id} does not speak the Messages API")
        return native

    def _responses(self, model: Model) -> NativeResponsesProvider:
        native = self._providers.native_responses(model.provider)
        if native is None:
            raise ValidationError(f"{model.id} does not serve the Responses API")
        return native

    def _gemini(self, model: Model) -> NativeGeminiProvider:
        native = self._providers.native_gemini(model.provider)
        if native is None:
            # A fallback of another provider cannot take a Gemini-format body: try the next.
            raise ProviderError(
                ProviderFailure.CONNECTION, f"{model.id} does not speak Gemini's API"
            )
        return native


@dataclass(frozen=True, slots=True)
class _OpenAttempt:
    number: int
    target: PricedModel
    started: float
    stream: MeteredStream
    upstream: Span  # open until the stream ends (its usage comes last)
    reported_model: str | None  # what the provider said answered, for the span


class _Resumed:
    """A stream whose first event was already taken; iterating continues after it."""

    def __init__(self, stream: MeteredStream, iterator: AsyncIterator[Any]) -> None:
        self._stream = stream
        self._iterator = iterator

    @property
    def usage(self) -> TokenUsage | None:
        return self._stream.usage

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterator

    async def aclose(self) -> None:
        await self._stream.aclose()


def _unconfigured(provider: str) -> ProviderError:
    return ProviderError(
        ProviderFailure.CONNECTION, f"the provider {provider!r} is not configured", status=None
    )


def _usage_or_estimate(
    response: ProviderResponse, request: CallRequest, model: Model
) -> tuple[TokenUsage, UsageSource]:
    if response.usage is not None:
        source = UsageSource.ESTIMATED if response.usage_estimated else UsageSource.REPORTED
        return response.usage, source
    body = response.body
    answer = (
        body.get("choices")
        or body.get("content")
        or body.get("output")
        or body.get("candidates")
        or ""
    )
    output_chars = len(str(answer))
    return _estimate(request, output_chars, model), UsageSource.ESTIMATED


def _estimate(request: CallRequest, output_chars: int, model: Model) -> TokenUsage:
    """About 4 characters a token, never past the request's bounds on the model that
    answered (so an estimate stays inside the hold)."""
    bound = request.bound
    return estimate_usage(
        bound.prompt_chars, output_chars, bound.output_tokens(model), bound.prompt_tokens(model)
    )


def _failed(number: int, target: PricedModel, exc: ProviderError, started: float) -> Attempt:
    usage = exc.usage or TokenUsage()
    source = UsageSource.REPORTED
    return Attempt(number, target, usage, source, CallStatus.FAILED, _ms_since(started))


def _succeeded(
    number: int, target: PricedModel, usage: TokenUsage, source: UsageSource, started: float
) -> Attempt:
    return Attempt(number, target, usage, source, CallStatus.SUCCEEDED, _ms_since(started))


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _upstream_span(call: Span, model: Model, kind: CallKind) -> Span:
    """The span of one attempt at a provider, named and described per the GenAI semantic
    conventions (nothing computed when the call is not recorded)."""
    if not call.recording:
        return call.child("", SpanKind.CLIENT)
    operation, provider = _OPERATIONS[kind], gen_ai_provider(model.provider)
    attributes = {
        GEN_AI_OPERATION: operation,
        GEN_AI_PROVIDER: provider,
        GEN_AI_SYSTEM: provider,
        GEN_AI_REQUEST_MODEL: model.upstream_name,
        "bizgraph.model": model.id,
    }
    return call.child(f"{operation} {model.upstream_name}", SpanKind.CLIENT, attributes)


def _provider_error_type(exc: ProviderError) -> str:
    """The provider's status when it answered one, else how it failed (`timeout`, ...)."""
    return str(exc.status) if exc.status is not None else exc.failure.value


def _answered(
    upstream: Span, usage: TokenUsage, source: UsageSource, reported_model: str | None
) -> None:
    """Close an answering attempt's span with the model that answered and its usage."""
    if upstream.recording:
        if reported_model is not None:
            upstream.set(GEN_AI_RESPONSE_MODEL, reported_model)
        upstream.set(GEN_AI_INPUT_TOKENS, usage.input_tokens)
        upstream.set(GEN_AI_OUTPUT_TOKENS, usage.output_tokens)
        upstream.set("bizgraph.usage.estimated", source is UsageSource.ESTIMATED)
    upstream.end()


def _relayed(
    relay: Span,
    attempt: _OpenAttempt,
    outcome: Outcome,
    usage: TokenUsage,
    source: UsageSource,
    call: Span,
) -> None:
    """End a stream's relay and upstream spans; a stream that broke fails them and the call."""
    if relay.recording:
        relay.set("bizgraph.relay.output_chars", outcome.output_chars)
        relay.set("bizgraph.relay.cut_short", outcome.cut_short)
    if outcome.error is not None:
        failure = _provider_error_type(outcome.error)
        for span in (relay, attempt.upstream, call):
            span.fail(failure)
    relay.end()
    _answered(attempt.upstream, usage, source, attempt.reported_model)


def _reported_model(upstream: Span, item: Any) -> str | None:
    """The model a provider says answered (read only for a recorded span): OpenAI's and
    Anthropic's `model` (a stream's `message` or `response` event holds it), Gemini's
    `modelVersion`."""
    if not upstream.recording:
        return None
    if isinstance(item, tuple) and len(item) == 2:  # a native stream's (event name, data)
        item = item[1]
    if not isinstance(item, dict):
        return None
    for holder in (item, item.get("message"), item.get("response")):
        if isinstance(holder, dict):
            for key in ("model", "modelVersion"):
                if isinstance(found := holder.get(key), str) and found:
                    return found
    return None


async def _shielded(settling: Any) -> None:
    """Settle even if the request is being cancelled (a client that went away)."""
    await asyncio.shield(settling)
