"""One attempt of a model call: its usage (reported, or estimated when the provider reported
none), its outcome for settlement, and its upstream span."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from domain.catalog.models import Model
from domain.metering.estimates import estimate_usage
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageSource
from domain.providers import (
    ProviderError,
    ProviderFailure,
    ProviderResponse,
)
from domain.runtime_ports import MeteredStream, Outcome
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
    gen_ai_provider,
)
from domain.usecases.call_requests import (
    OPERATIONS,
    CallKind,
    CallRequest,
)
from domain.usecases.grants import Attempt, PricedModel


@dataclass(frozen=True, slots=True)
class OpenAttempt:
    number: int
    target: PricedModel
    started: float
    stream: MeteredStream
    upstream: Span  # open until the stream ends (its usage comes last)
    reported_model: str | None  # what the provider said answered, for the span
    credential_id: str | None = None  # the client's own credential it used (docs/byok.md)


class Resumed:
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


def unconfigured(provider: str) -> ProviderError:
    return ProviderError(
        ProviderFailure.CONNECTION, f"the provider {provider!r} is not configured", status=None
    )


def usage_or_estimate(
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
    return estimate(request, output_chars, model), UsageSource.ESTIMATED


def estimate(request: CallRequest, output_chars: int, model: Model) -> TokenUsage:
    """About 4 characters a token, never past the request's bounds on the model that
    answered (so an estimate stays inside the hold)."""
    bound = request.bound
    return estimate_usage(
        bound.prompt_chars, output_chars, bound.output_tokens(model), bound.prompt_tokens(model)
    )


def failed(number: int, target: PricedModel, exc: ProviderError, started: float) -> Attempt:
    usage = exc.usage or TokenUsage()
    source = UsageSource.REPORTED
    return Attempt(number, target, usage, source, CallStatus.FAILED, ms_since(started))


def succeeded(
    number: int, target: PricedModel, usage: TokenUsage, source: UsageSource, started: float
) -> Attempt:
    return Attempt(number, target, usage, source, CallStatus.SUCCEEDED, ms_since(started))


def ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def upstream_span(call: Span, model: Model, kind: CallKind) -> Span:
    """The span of one attempt at a provider, named and described per the GenAI semantic
    conventions (nothing computed when the call is not recorded)."""
    if not call.recording:
        return call.child("", SpanKind.CLIENT)
    operation, provider = OPERATIONS[kind], gen_ai_provider(model.provider)
    attributes = {
        GEN_AI_OPERATION: operation,
        GEN_AI_PROVIDER: provider,
        GEN_AI_SYSTEM: provider,
        GEN_AI_REQUEST_MODEL: model.upstream_name,
        "bizgraph.model": model.id,
    }
    return call.child(f"{operation} {model.upstream_name}", SpanKind.CLIENT, attributes)


def provider_error_type(exc: ProviderError) -> str:
    """The provider's status when it answered one, else how it failed (`timeout`, ...)."""
    return str(exc.status) if exc.status is not None else exc.failure.value


def answered(
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


def relayed(
    relay: Span,
    attempt: OpenAttempt,
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
        failure = provider_error_type(outcome.error)
        for span in (relay, attempt.upstream, call):
            span.fail(failure)
    relay.end()
    answered(attempt.upstream, usage, source, attempt.reported_model)


def reported_model(upstream: Span, item: Any) -> str | None:
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


async def shielded(settling: Any) -> None:
    """Settle even if the request is being cancelled (a client that went away)."""
    await asyncio.shield(settling)
