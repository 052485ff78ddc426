"""The tracing port: spans around a model call and its stages (auth, hold, upstream, relay,
settle), with GenAI semantic-convention attributes.

Tracing is off unless an adapter is configured; the default tracer and span do nothing, so the
hot path pays a few no-op method calls. Code that computes attributes checks `recording` first.
Spans never carry prompt or completion content, nor any secret: ids, model names, token counts,
error classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from enum import StrEnum
from types import MappingProxyType, TracebackType
from typing import Protocol, Self

AttributeValue = str | int | float | bool


class SpanKind(StrEnum):
    INTERNAL = "internal"
    SERVER = "server"  # the call as the gateway serves it
    CLIENT = "client"  # a request to a provider


class Span(Protocol):
    """One operation. As a context manager it ends on exit, marked failed by an exception."""

    @property
    def recording(self) -> bool:
        """False for the no-op span: skip computing attributes."""
        ...

    def child(
        self,
        name: str,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> Span:
        """A span started now under this one."""
        ...

    def rename(self, name: str) -> None: ...
    def set(self, key: str, value: AttributeValue) -> None: ...

    def fail(self, error_type: str) -> None:
        """Error status, with `error.type` (a low-cardinality class: never a message)."""
        ...

    def extend(self) -> None:
        """One more `end()` is needed before the span ends: a stream's relay outlives the
        response that started it, and ends the call's span once it settled."""
        ...

    def end(self) -> None: ...

    def carrying(self) -> AbstractContextManager[object]:
        """While inside, requests to providers carry this span's trace context."""
        ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class Tracer(Protocol):
    def start_call(self, name: str, incoming: Mapping[str, str]) -> Span:
        """The span of one model call, continuing the trace of the incoming request's headers
        (W3C `traceparent`) if any; it ends after its last `end()` (see Span.extend)."""
        ...

    def shutdown(self) -> None:
        """Export what is buffered and stop (blocking: run it off the event loop)."""
        ...


class _NoSpan:
    """Does nothing, as cheaply as Python allows: one shared instance."""

    __slots__ = ()

    @property
    def recording(self) -> bool:
        return False

    def child(
        self,
        name: str,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> _NoSpan:
        return self

    def rename(self, name: str) -> None:
        pass

    def set(self, key: str, value: AttributeValue) -> None:
        pass

    def fail(self, error_type: str) -> None:
        pass

    def extend(self) -> None:
        pass

    def end(self) -> None:
        pass

    def carrying(self) -> _NoSpan:
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass


class _NoTracer:
    __slots__ = ()

    def start_call(self, name: str, incoming: Mapping[str, str]) -> Span:
        return NO_SPAN

    def shutdown(self) -> None:
        pass


NO_SPAN: Span = _NoSpan()
NO_TRACER: Tracer = _NoTracer()


def error_type(exc: BaseException) -> str:
    """`error.type` for an exception: its class name (messages may hold request details)."""
    return type(exc).__name__


# GenAI semantic conventions (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/):
# `gen_ai.provider.name` is the current name, `gen_ai.system` the one before v1.37; both are
# set so backends of either generation read them.
GEN_AI_OPERATION = "gen_ai.operation.name"
GEN_AI_PROVIDER = "gen_ai.provider.name"
GEN_AI_SYSTEM = "gen_ai.system"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
ERROR_TYPE = "error.type"

# The catalog's provider names as the conventions' well-known values.
_PROVIDER_NAMES = MappingProxyType({"google": "gcp.gemini", "gemini": "gcp.gemini"})


def gen_ai_provider(provider: str) -> str:
    return _PROVIDER_NAMES.get(provider, provider)
