"""Model calls: try the model and its fallbacks, relay the answer, settle every attempt.

Every attempt that reached a provider is settled once, at its own model's price: a success with
the provider's usage (or an estimate, flagged, when it reported none although output reached
the client), a failure with zero usage unless the provider said what it billed.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from domain.byok.credentials import UpstreamCredential
from domain.byok.ports import ByokLookup, CredentialedProviders
from domain.catalog.models import Model
from domain.errors import ValidationError
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
from domain.runtime_ports import MeteredStream, Outcome, Relays
from domain.telemetry import NO_TELEMETRY, Telemetry, note_model, note_upstream
from domain.tracing import (
    Span,
    error_type,
)
from domain.usecases.byok_calls import key_for
from domain.usecases.call_attempts import (
    OpenAttempt,
    Resumed,
    answered,
    estimate,
    failed,
    ms_since,
    provider_error_type,
    relayed,
    reported_model,
    shielded,
    succeeded,
    unconfigured,
    upstream_span,
    usage_or_estimate,
)
from domain.usecases.call_requests import (
    GEMINI_KINDS,
    CallKind,
    CallRequest,
    Completed,
    Streaming,
)
from domain.usecases.grants import Attempt, CallGrant, PricedModel
from domain.usecases.metering import Metering

T = TypeVar("T")


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
        credentialed: CredentialedProviders | None = None,
        byok: ByokLookup | None = None,
    ) -> None:
        """`relays`: the application's relay pool, which streams are read through;
        `credentialed`: the registry with a client's own credential (docs/byok.md), and `byok`
        told when one is used."""
        self._credentialed = credentialed
        self._byok = byok
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
            number, target, started, upstream, response, credential = await self._first_answer(
                grant, request, attempts, lambda t, p: self._send(t, request, p)
            )
            self._upstream(target, started)
            usage, source = usage_or_estimate(response, request, target.model)
            attempts.append(paid_by(succeeded(number, target, usage, source, started), credential))
            answered(upstream, usage, source, reported_model(upstream, response.body))
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
            (
                number,
                target,
                started,
                upstream,
                (stream, first),
                credential,
            ) = await self._first_answer(
                grant, request, attempts, lambda t, p: self._first_event(t, request, p)
            )
        except BaseException:
            await self._settle(grant, attempts)
            raise
        # Read now: the route rewrites the chunk's model once it is relayed.
        reported = reported_model(upstream, first)
        attempt = OpenAttempt(number, target, started, stream, upstream, reported, credential)
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
        call: Callable[[PricedModel, ProviderRegistry], Awaitable[T]],
    ) -> tuple[int, PricedModel, float, Span, T, str | None]:
        """Try the model, then its fallbacks, until one answers. Every failed attempt is
        appended to `attempts`; a failure no fallback can help is raised at once, and so is
        the last one when the hold cannot cover a fallback on top of what was billed. Each
        attempt has its upstream span; the answering one's is returned open, for its usage,
        with the id of the client's own credential it used (None: the agency's key)."""
        last_error: ProviderError | None = None
        async for number, target, credential in self._targets(grant, request.kind):
            providers, credential_id = self._providers, None
            if credential is not None and self._credentialed is not None:
                providers = self._credentialed.with_credential(credential)
                credential_id = credential.id  # billed as BYOK only when its key was sent
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
            upstream = upstream_span(grant.trace, target.model, request.kind)
            try:
                with upstream.carrying():
                    answer = await call(target, providers)
            except ProviderError as exc:
                upstream.fail(provider_error_type(exc))
                upstream.end()
                attempts.append(paid_by(failed(number, target, exc, started), credential_id))
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
            if credential_id is not None and self._byok is not None:
                self._byok.note_used(credential_id)
            return number, target, started, upstream, answer, credential_id
        raise last_error or unconfigured(grant.target.model.provider)

    def _upstream(self, target: PricedModel, started: float) -> None:
        seconds = time.monotonic() - started
        self._telemetry.upstream(target.model.provider, seconds)
        note_upstream(seconds)

    async def _settle(self, grant: CallGrant, attempts: list[Attempt]) -> None:
        with grant.trace.child("settle"):
            await shielded(self._metering.settle(grant, attempts))

    def _stream_settler(
        self,
        grant: CallGrant,
        request: CallRequest,
        earlier: list[Attempt],
        attempt: OpenAttempt,
        relay: Span,
    ) -> Callable[[Outcome], Awaitable[None]]:
        async def settle(outcome: Outcome) -> None:
            try:
                reported = (outcome.error.usage if outcome.error else None) or attempt.stream.usage
                if reported is not None:
                    usage, source = reported, UsageSource.REPORTED
                else:
                    usage = estimate(request, outcome.output_chars, attempt.target.model)
                    source = UsageSource.ESTIMATED
                status = CallStatus.FAILED if outcome.error else CallStatus.SUCCEEDED
                self._upstream(attempt.target, attempt.started)  # to the stream's end
                last = Attempt(
                    attempt.number,
                    attempt.target,
                    usage,
                    source,
                    status,
                    ms_since(attempt.started),
                    attempt.credential_id,
                )
                relayed(relay, attempt, outcome, usage, source, grant.trace)
                await self._settle(grant, [*earlier, last])
            finally:
                grant.trace.end()

        return settle

    async def _first_event(
        self, target: PricedModel, request: CallRequest, providers: ProviderRegistry
    ) -> tuple[MeteredStream, Any]:
        stream = await self._open(target, request, providers)
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
        return Resumed(stream, iterator), first

    async def _targets(
        self, grant: CallGrant, kind: CallKind
    ) -> AsyncIterator[tuple[int, PricedModel, UpstreamCredential | None]]:
        """The model asked for, then its fallbacks whose provider is configured (and, for a
        Gemini-native body, speaks Gemini's API: no other can take it untranslated), each
        with the client's own credential it uses, if any (byok_calls.key_for: a fallback the
        client's BYOK settings forbid is skipped)."""
        primary = grant.target.model
        yield 0, grant.target, key_for(grant.byok, primary, primary, 0).credential
        native_gemini = kind in GEMINI_KINDS
        for number, model_id in enumerate(grant.target.model.fallbacks, start=1):
            target = await self._metering.fallback(grant, model_id)
            if target is None or not self.can_serve(target.model):
                continue
            if native_gemini and not self.speaks_gemini(target.model):
                continue
            choice = key_for(grant.byok, primary, target.model, number)
            if not choice.allowed:
                continue
            yield number, target, choice.credential

    async def _send(
        self, target: PricedModel, request: CallRequest, providers: ProviderRegistry
    ) -> ProviderResponse:
        model, body = target.model, request.body
        if request.kind is CallKind.MESSAGES:
            return await self._native(model, providers).messages(model, body)
        if request.kind is CallKind.RESPONSES:
            return await self._responses(model, providers).responses(model, body)
        if request.kind is CallKind.EMBEDDING:
            return await self._provider(model, providers).embed(model, body)
        if request.kind is CallKind.GEMINI:
            return await self._gemini(model, providers).generate(model, body)
        if request.kind in (CallKind.GEMINI_EMBED, CallKind.GEMINI_BATCH_EMBED):
            batch = request.kind is CallKind.GEMINI_BATCH_EMBED
            return await self._gemini(model, providers).embed_contents(model, body, batch)
        return await self._provider(model, providers).chat(model, body)

    async def _open(
        self, target: PricedModel, request: CallRequest, providers: ProviderRegistry
    ) -> MeteredStream:
        model, body = target.model, request.body
        if request.kind is CallKind.MESSAGES:
            return await self._native(model, providers).open_messages_stream(model, body)
        if request.kind is CallKind.RESPONSES:
            return await self._responses(model, providers).open_responses_stream(model, body)
        if request.kind is CallKind.GEMINI:
            return await self._gemini(model, providers).open_generate_stream(model, body)
        return await self._provider(model, providers).open_chat_stream(model, body)

    def _provider(self, model: Model, providers: ProviderRegistry) -> ModelProvider:
        provider = providers.chat(model.provider)
        if provider is None:
            raise unconfigured(model.provider)
        return provider

    def _native(
        self, model: Model, providers: ProviderRegistry | None = None
    ) -> NativeMessagesProvider:
        native = (providers or self._providers).native_messages(model.provider)
        if native is None:
            raise ValidationError(f"{model.id} does not speak the Messages API")
        return native

    def _responses(self, model: Model, providers: ProviderRegistry) -> NativeResponsesProvider:
        native = providers.native_responses(model.provider)
        if native is None:
            raise ValidationError(f"{model.id} does not serve the Responses API")
        return native

    def _gemini(
        self, model: Model, providers: ProviderRegistry | None = None
    ) -> NativeGeminiProvider:
        native = (providers or self._providers).native_gemini(model.provider)
        if native is None:
            # A fallback of another provider cannot take a Gemini-format body: try the next.
            raise ProviderError(
                ProviderFailure.CONNECTION, f"{model.id} does not speak Gemini's API"
            )
        return native


def paid_by(attempt: Attempt, credential_id: str | None) -> Attempt:
    """The attempt made with the client's own credential (None: the agency's key, as built)."""
    return attempt if credential_id is None else replace(attempt, credential_id=credential_id)
