"""The tracing port on the OpenTelemetry SDK, exporting over OTLP (HTTP/protobuf).

Configuration is OpenTelemetry's own environment variables, read by the SDK: the endpoint and
headers of the exporter, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER,
OTEL_PROPAGATORS, OTEL_BSP_* (docs/operations.md, Traces). Spans are ended by the code that
started them, never attached to OpenTelemetry's current context: a stream's spans end in the
relay's task, not the request's.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Self

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

from adapters.providers.http import carrying
from domain.tracing import ERROR_TYPE, AttributeValue, SpanKind, error_type

log = logging.getLogger("bizgraph.tracing")

DEFAULT_SERVICE_NAME = "bizgraph"

_KINDS = {
    SpanKind.INTERNAL: trace.SpanKind.INTERNAL,
    SpanKind.SERVER: trace.SpanKind.SERVER,
    SpanKind.CLIENT: trace.SpanKind.CLIENT,
}


class OtelTracer:
    """The port's Tracer on one SDK TracerProvider (its own, not the global one)."""

    def __init__(self, provider: TracerProvider) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer("bizgraph")

    def start_call(self, name: str, incoming: Mapping[str, str]) -> OtelSpan:
        parent = propagate.extract(incoming)  # OTEL_PROPAGATORS: W3C trace context by default
        span = self._tracer.start_span(name, parent, trace.SpanKind.SERVER)
        return OtelSpan(self._tracer, span)

    def shutdown(self) -> None:
        self._provider.shutdown()  # flushes the batch processor first


class OtelSpan:
    __slots__ = ("_ends", "_span", "_tracer")

    def __init__(self, tracer: trace.Tracer, span: trace.Span) -> None:
        self._tracer = tracer
        self._span = span
        self._ends = 1  # `end()` calls still needed (see Span.extend)

    @property
    def recording(self) -> bool:
        return self._span.is_recording()

    def child(
        self,
        name: str,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> OtelSpan:
        parent = trace.set_span_in_context(self._span)
        return OtelSpan(
            self._tracer, self._tracer.start_span(name, parent, _KINDS[kind], attributes)
        )

    def rename(self, name: str) -> None:
        self._span.update_name(name)

    def set(self, key: str, value: AttributeValue) -> None:
        self._span.set_attribute(key, value)

    def fail(self, error_type: str) -> None:
        self._span.set_attribute(ERROR_TYPE, error_type)
        self._span.set_status(Status(StatusCode.ERROR))  # no description: it could hold data

    def extend(self) -> None:
        self._ends += 1

    def end(self) -> None:
        self._ends -= 1
        if self._ends == 0:
            self._span.end()

    def carrying(self) -> AbstractContextManager[None]:
        return carrying(_Outbound(self._span))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:
            self.fail(error_type(exc))
        self.end()


class _Outbound:
    """An upstream span as the provider request sees it: its trace context as headers, and
    the server it went to."""

    __slots__ = ("_span",)

    def __init__(self, span: trace.Span) -> None:
        self._span = span

    @property
    def fields(self) -> Mapping[str, str]:
        fields: dict[str, str] = {}
        propagate.inject(fields, trace.set_span_in_context(self._span))
        return fields

    def sent_to(self, host: str, port: int | None) -> None:
        self._span.set_attribute("server.address", host)
        if port is not None:
            self._span.set_attribute("server.port", port)


def default_resource() -> Resource:
    """OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES as the SDK reads them; the service is
    `bizgraph` unless they name it."""
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return resource


def otlp_tracer(processor: SpanProcessor | None = None) -> OtelTracer:
    """Spans batched and exported over OTLP/HTTP (the endpoint and the rest from the
    environment); `processor` replaces the exporter (the tests' in-memory one). The sampler
    is the SDK's, from OTEL_TRACES_SAMPLER (parent-based, always on by default)."""
    provider = TracerProvider(resource=default_resource())
    if processor is None:
        _warn_of_grpc(os.environ)
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processor = BatchSpanProcessor(OTLPSpanExporter())
    provider.add_span_processor(processor)
    return OtelTracer(provider)


def _warn_of_grpc(environ: Mapping[str, str]) -> None:
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", ""
    )
    if protocol.strip().lower() == "grpc":
        log.warning(
            "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported: spans are sent over OTLP/HTTP "
            "(protobuf); point the endpoint at the collector's HTTP port (4318)"
        )
