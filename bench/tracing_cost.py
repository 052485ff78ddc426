"""What tracing costs a call: off (the no-op tracer, the default), on (the OpenTelemetry SDK
recording every span, batched to an exporter that discards them, so the export itself is left
out) and on but not sampled (`OTEL_TRACES_SAMPLER=always_off`: what the calls a ratio sampler
leaves out cost).

The figure is the tracing work of one non-streamed call as gateway.py and calls.py do it (the
call span from the incoming `traceparent`, auth, hold, the upstream span with its GenAI
attributes and the outbound trace context, settle, the call's status), in µs per call: the
median of `--rounds` interleaved rounds of `timeit`.

    .venv/bin/python -m bench.tracing_cost --calls 10000 --rounds 5
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import timeit
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from adapters.providers.http import _traced
from adapters.tracing import otlp_tracer
from domain.catalog.models import Model
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageSource
from domain.tracing import NO_TRACER, Tracer
from domain.usecases.call_requests import CallKind
from domain.usecases.calls import _answered, _reported_model, _upstream_span

MODEL = Model("demo/chat", "demo", "chat")
HEADERS = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
OUTBOUND = {"content-type": "application/json", "authorization": "Bearer sk-bench"}
URL = "http://127.0.0.1:9/v1/chat/completions"
ANSWER = {"model": "chat-2026", "choices": []}
USAGE = TokenUsage(input_tokens=12, output_tokens=7)


class _Discard(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def span_work(tracer: Tracer) -> None:
    """The tracing calls of one non-streamed call, as calls.py and gateway.py make them."""
    call = tracer.start_call("chat", HEADERS)
    with call.child("auth"):
        pass
    if call.recording:
        call.rename(f"chat {MODEL.id}")
        call.set("gen_ai.request.model", MODEL.id)
    with call.child("hold"):
        pass
    upstream = _upstream_span(call, MODEL, CallKind.CHAT)
    with upstream.carrying():
        _traced(OUTBOUND, URL)
    _answered(upstream, USAGE, UsageSource.REPORTED, _reported_model(upstream, ANSWER))
    with call.child("settle"):
        pass
    if call.recording:
        call.set("http.response.status_code", 200)
    call.end()


def _unsampled() -> Tracer:
    os.environ["OTEL_TRACES_SAMPLER"] = "always_off"  # read by the SDK's TracerProvider
    try:
        return otlp_tracer(BatchSpanProcessor(_Discard()))
    finally:
        del os.environ["OTEL_TRACES_SAMPLER"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    # A queue that never fills: a dropped span would cost less than an exported one.
    on = otlp_tracer(BatchSpanProcessor(_Discard(), max_queue_size=10 * args.calls * 6))
    tracers = {"off": NO_TRACER, "on": on, "on, not sampled": _unsampled()}
    spans: dict[str, list[float]] = {name: [] for name in tracers}
    for _ in range(args.rounds):
        for name, tracer in tracers.items():
            seconds = timeit.timeit(functools.partial(span_work, tracer), number=args.calls)
            spans[name].append(seconds / args.calls * 1e6)
    for name, tracer in tracers.items():
        tracer.shutdown()
        rounds = ", ".join(f"{v:.2f}" for v in spans[name])
        print(f"tracing {name:16}: {statistics.median(spans[name]):7.2f} µs a call ({rounds})")


if __name__ == "__main__":
    main()
