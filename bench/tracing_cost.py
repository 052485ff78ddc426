"""What tracing costs a call: off (the no-op tracer, the default) and on (the OpenTelemetry SDK
recording every span, batched to an exporter that discards them).

Two figures, each the median of `--rounds` interleaved rounds:
- spans: only the tracing work of one non-streamed call (call span, auth, hold, upstream with
  its GenAI attributes and the outbound trace context, settle), as `timeit` measures it;
- call: one metered call in process (authenticate, authorize, hold and journal, the demo
  provider's answer, settle) on the tests' in-memory store, so the delta is tracing's share
  of the gateway's own work, without any database or network.

    PYTHONPATH=src:. .venv/bin/python -m bench.tracing_cost --calls 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import time
import timeit
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from adapters.providers.demo import DemoProvider
from adapters.providers.http import _traced
from adapters.providers.registry import StaticProviderRegistry
from adapters.tracing import otlp_tracer
from domain.catalog import Model, PriceVersion
from domain.pricing import PercentageMargin
from domain.request_bounds import chat_bound
from domain.tokens import TokenUsage
from domain.tracing import NO_TRACER, Tracer
from domain.usage import UsageSource
from domain.usecases.calls import CallKind, CallRequest, ModelCalls, _answered, _upstream_span
from domain.usecases.catalog import CatalogUseCases
from domain.usecases.clients import ClientUseCases, NewClient
from domain.usecases.keys import KeyUseCases, NewKey
from domain.usecases.metering import Metering
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock

T0 = datetime(2026, 3, 1, tzinfo=UTC)
MODEL = Model("demo/chat", "demo", "chat")
BODY = {"model": MODEL.id, "messages": [{"role": "user", "content": "Say hello"}]}
HEADERS = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
OUTBOUND = {"content-type": "application/json", "authorization": "Bearer sk-bench"}
URL = "http://127.0.0.1:9/v1/chat/completions"
ANSWER = {"model": "chat-2026", "choices": []}


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
    _answered(upstream, TokenUsage(input_tokens=12, output_tokens=7), UsageSource.REPORTED, ANSWER)
    with call.child("settle"):
        pass
    if call.recording:
        call.set("http.response.status_code", 200)
    call.end()


async def _world() -> tuple[Metering, ModelCalls, str]:
    uow, clock = FakeUnitOfWorkFactory(), FrozenClock(T0)
    keys = KeyUseCases(uow, clock, FakeKeyHasher())
    metering = Metering(uow, clock, keys)
    await CatalogUseCases(uow).save_model(MODEL)
    await CatalogUseCases(uow).add_price(
        PriceVersion(MODEL.id, T0 - timedelta(days=1), input=Decimal(1), output=Decimal(2))
    )
    client, _ = await ClientUseCases(uow, clock).create(
        NewClient("Acme", PercentageMargin(Decimal(10)))
    )
    issued = await keys.issue(NewKey(client.id))
    calls = ModelCalls(metering, StaticProviderRegistry({"demo": DemoProvider()}), 10.0)
    return metering, calls, issued.secret


async def call_cost(tracer: Tracer, calls_per_round: int) -> float:
    """Mean µs of one metered call in process."""
    metering, calls, secret = await _world()
    bound = chat_bound(BODY, None, 1)
    request = CallRequest(CallKind.CHAT, BODY, bound)

    async def one(number: int) -> None:
        span = tracer.start_call("chat", HEADERS)
        caller = await metering.authenticate(secret, span)
        grant = await metering.authorize(caller, MODEL.id, f"req_{number}", span)
        await metering.hold_and_journal(grant, bound)
        await calls.complete(grant, request)
        span.end()

    for number in range(200):  # warm-up
        await one(number)
    started = time.perf_counter()
    for number in range(calls_per_round):
        await one(1000 + number)
    return (time.perf_counter() - started) / calls_per_round * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    on = otlp_tracer(BatchSpanProcessor(_Discard()))
    tracers = {"off": NO_TRACER, "on": on}
    spans: dict[str, list[float]] = {name: [] for name in tracers}
    whole: dict[str, list[float]] = {name: [] for name in tracers}
    for _ in range(args.rounds):
        for name, tracer in tracers.items():
            seconds = timeit.timeit(functools.partial(span_work, tracer), number=args.calls * 5)
            spans[name].append(seconds / (args.calls * 5) * 1e6)
            whole[name].append(asyncio.run(call_cost(tracer, args.calls)))
    on.shutdown()
    for name in tracers:
        print(
            f"tracing {name:3}: spans of one call {statistics.median(spans[name]):7.2f} µs, "
            f"one in-process call {statistics.median(whole[name]):7.1f} µs "
            f"(rounds: {', '.join(f'{v:.1f}' for v in whole[name])})"
        )


if __name__ == "__main__":
    main()
