"""The tracer: off unless OpenTelemetry's endpoint variables are set; exported over OTLP/HTTP
to that endpoint, named by OTEL_SERVICE_NAME (default `bizgraph`); spans that end on their
last `end()`."""

from __future__ import annotations

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.tracing import OtelTracer, otlp_tracer
from api.container.observability import OTLP_ENDPOINT_VARIABLES, build_tracer
from domain.tracing import NO_SPAN, NO_TRACER
from tests.support.servers import serve_in_thread

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
ENDPOINT = "http://127.0.0.1:4318"


@pytest.fixture(autouse=True)
def _no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*OTLP_ENDPOINT_VARIABLES, "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)


def test_tracing_is_off_unless_an_otlp_endpoint_is_set() -> None:
    assert build_tracer() is NO_TRACER
    assert build_tracer({"OTEL_EXPORTER_OTLP_ENDPOINT": " "}) is NO_TRACER
    disabled = {"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_SDK_DISABLED": "true"}
    assert build_tracer(disabled) is NO_TRACER
    assert NO_TRACER.start_call("chat", {"traceparent": TRACEPARENT}) is NO_SPAN
    assert not NO_SPAN.recording


@pytest.mark.parametrize("variable", OTLP_ENDPOINT_VARIABLES)
def test_either_endpoint_variable_turns_tracing_on(variable: str) -> None:
    tracer = build_tracer({variable: ENDPOINT})
    try:
        assert isinstance(tracer, OtelTracer)
    finally:
        tracer.shutdown()


def test_a_span_ends_on_its_last_end() -> None:
    exporter = InMemorySpanExporter()
    tracer = otlp_tracer(SimpleSpanProcessor(exporter))
    call = tracer.start_call("chat demo/chat", {"traceparent": TRACEPARENT})
    call.extend()  # a stream's relay holds it open
    call.end()
    assert exporter.get_finished_spans() == ()
    call.end()
    assert [s.name for s in exporter.get_finished_spans()] == ["chat demo/chat"]


def test_a_span_left_by_an_exception_is_failed_with_its_class() -> None:
    exporter = InMemorySpanExporter()
    tracer = otlp_tracer(SimpleSpanProcessor(exporter))
    call = tracer.start_call("chat", {})
    with pytest.raises(LookupError), call.child("hold"):
        raise LookupError("a message that stays out of the span")
    (hold,) = exporter.get_finished_spans()
    assert dict(hold.attributes or {}) == {"error.type": "LookupError"}
    assert hold.status.description is None


def _collector(received: list[tuple[str, str, bytes]]) -> Starlette:
    async def traces(request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        received.append((request.url.path, content_type, await request.body()))
        return Response(b"", media_type="application/x-protobuf")

    return Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])


def _exported(received: list[tuple[str, str, bytes]]) -> tuple[set[str], set[str]]:
    services: set[str] = set()
    names: set[str] = set()
    for path, content_type, body in received:
        assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
        for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans:
            for attribute in resource_spans.resource.attributes:
                if attribute.key == "service.name":
                    services.add(attribute.value.string_value)
            for scope in resource_spans.scope_spans:
                names.update(span.name for span in scope.spans)
    return services, names


@pytest.mark.parametrize("service", [None, "bizgraph-eu"])
def test_spans_are_exported_over_otlp_http_to_the_configured_endpoint(
    monkeypatch: pytest.MonkeyPatch, service: str | None
) -> None:
    received: list[tuple[str, str, bytes]] = []
    with serve_in_thread(_collector(received)) as url:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
        if service is not None:
            monkeypatch.setenv("OTEL_SERVICE_NAME", service)
        tracer = build_tracer()
        call = tracer.start_call("chat demo/chat", {"traceparent": TRACEPARENT})
        call.child("auth").end()
        call.end()
        tracer.shutdown()  # flushes the batch
    assert _exported(received) == ({service or "bizgraph"}, {"chat demo/chat", "auth"})
