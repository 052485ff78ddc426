"""Telemetry as Prometheus metrics with the official client (docs/operations.md "Metrics").

With `bizgraph serve --workers N` the client's multiprocess mode is on (PROMETHEUS_MULTIPROC_DIR,
set by the serve command before any worker imports the client): every process writes its
samples to its own memory-mapped files and a scrape, answered by any worker, merges them all.
The client picks the mode when it is first imported, so this module is imported only once
metrics are on (api/container/observability.py).

Values computed at scrape time from the database (journal rows open, the webhook outbox,
budgets used) come from the scraping process alone, as a `Reading`, never from the files."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from domain.metering.usage import UsageRecord
from domain.telemetry import Refusal, RequestMeasure, Telemetry

# The client's multiprocess helpers have no annotations: their types, stated once here.
_disable_created: Callable[[], None] = disable_created_metrics
_collect_processes: Callable[..., object] = MultiProcessCollector
_mark_dead: Callable[[int, str | None], None] = mark_process_dead

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
OVERHEAD_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
BATCH_SECONDS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


# The `class` label of bizgraph_tokens_total, in the order of TokenUsage's fields read above.
TOKEN_CLASSES = ("input", "output", "cached_input", "cache_write", "reasoning")
_MoneyChildren = tuple[tuple[Counter, ...], Counter, Counter]


@dataclass(frozen=True, slots=True)
class Reading:
    """What a scrape reads from the database (api/container/observability.py caches it for 5 s)."""

    journal_open: int = 0
    outbox_depth: int = 0
    outbox_oldest_seconds: float = 0.0
    budget_used: dict[str, float] = field(default_factory=dict)  # client id: spent / limit


class _Scraped(Collector):
    """The latest Reading as gauges, built at collect time."""

    def __init__(self) -> None:
        self.reading = Reading()

    def collect(self) -> Iterable[Metric]:
        reading = self.reading
        yield GaugeMetricFamily(
            "bizgraph_journal_open",
            "Calls journaled and not settled yet (in flight, or left by a crash).",
            value=reading.journal_open,
        )
        yield GaugeMetricFamily(
            "bizgraph_webhook_outbox_depth",
            "Webhook and email deliveries waiting to be sent or retried.",
            value=reading.outbox_depth,
        )
        yield GaugeMetricFamily(
            "bizgraph_webhook_outbox_oldest_age_seconds",
            "Age of the oldest delivery waiting (0 when none waits).",
            value=reading.outbox_oldest_seconds,
        )
        used = GaugeMetricFamily(
            "bizgraph_budget_used_ratio",
            "A client's budget spent this period over its limit (clients with a budget).",
            labels=["client"],
        )
        for client_id, ratio in sorted(reading.budget_used.items()):
            used.add_metric([client_id], ratio)
        yield used

    def describe(self) -> Iterable[Metric]:
        return []  # collected on every scrape, never at registration


class PrometheusTelemetry(Telemetry):
    enabled = True

    def __init__(self) -> None:
        # `_created` series double every counter; dashboards do not use them.
        _disable_created()
        self.multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        # The client chose its value class when first imported: trust that, not the variable.
        self.multiprocess = bool(getattr(values.ValueClass, "_multiprocess", False))
        if self.multiprocess and not self.multiprocess_dir:
            raise RuntimeError("prometheus-client is in multiprocess mode without its directory")
        # Metrics register here; in multiprocess mode this registry is never exposed (the
        # samples are read back from the files of every process).
        self._registry = CollectorRegistry(auto_describe=True)
        self._scraped = _Scraped()
        r = self._registry
        self._requests = Counter(
            "bizgraph_requests",
            "HTTP requests by route template, catalog model, provider and status class.",
            ["route", "model", "provider", "status_class"],
            registry=r,
        )
        self._request_seconds = Histogram(
            "bizgraph_request_seconds",
            "Request duration (to the end of the body, streams included).",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._upstream_seconds = Histogram(
            "bizgraph_upstream_seconds",
            "Provider attempt duration (to its answer, or the end of its stream).",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._overhead_seconds = Histogram(
            "bizgraph_overhead_seconds",
            "Gateway overhead: request duration minus time spent on providers.",
            ["route"],
            buckets=OVERHEAD_BUCKETS,
            registry=r,
        )
        self._first_byte_seconds = Histogram(
            "bizgraph_first_byte_seconds",
            "Time to the first body byte of a streamed answer.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._tokens = Counter(
            "bizgraph_tokens",
            "Tokens billed, by client id, catalog model and class.",
            ["client", "model", "class"],
            registry=r,
        )
        self._fallbacks = Counter(
            "bizgraph_fallbacks", "Fallback attempts, by the model called.", ["model"], registry=r
        )
        self._refusals = Counter(
            "bizgraph_refusals",
            "Calls refused before any provider, by reason.",
            ["reason"],
            registry=r,
        )
        self._cost = Counter(
            "bizgraph_cost",
            "Provider cost (a float for dashboards; the exact amount is in the database).",
            ["client", "model", "currency"],
            registry=r,
        )
        self._charge = Counter(
            "bizgraph_charge",
            "Client charge (a float for dashboards; the exact amount is in the database).",
            ["client", "model", "currency"],
            registry=r,
        )
        self._batch_size = Histogram(
            "bizgraph_write_batch_size",
            "Writes per transaction of the hot path's writer.",
            buckets=BATCH_SIZE_BUCKETS,
            registry=r,
        )
        self._batch_seconds = Histogram(
            "bizgraph_write_batch_seconds",
            "Duration of a transaction of the hot path's writer.",
            buckets=BATCH_SECONDS_BUCKETS,
            registry=r,
        )
        self._loop_success = Gauge(
            "bizgraph_background_last_success_timestamp",
            "Unix time of a background loop's last successful cycle (latest of any process).",
            ["loop"],
            multiprocess_mode="max",
            registry=r,
        )
        self._pool_in_use = Gauge(
            "bizgraph_db_pool_in_use",
            "Database connections checked out of the engine's pool (live processes summed).",
            multiprocess_mode="livesum",
            registry=r,
        )
        # Labelled children by their label values (bounded as the labels are).
        self._money: dict[tuple[str, str, str, str], _MoneyChildren] = {}
        self._counts: dict[tuple[str, str, str, str], Counter] = {}
        self._routes: dict[str, tuple[Histogram, Histogram, Histogram]] = {}
        if not self.multiprocess:
            r.register(self._scraped)

    # -- the port ----------------------------------------------------------------------

    def settled(self, records: Sequence[UsageRecord]) -> None:
        for record in records:
            usage, cost, charge = record.usage, record.cost, record.charge
            key = (record.client_id, record.model_id, cost.currency, charge.currency)
            children = self._money.get(key) or self._money_children(key)
            tokens, cost_child, charge_child = children
            counts = (
                usage.input_tokens,
                usage.output_tokens,
                usage.cached_input_tokens,
                usage.cache_write_tokens,
                usage.reasoning_tokens,
            )
            for child, count in zip(tokens, counts, strict=True):
                if count:
                    child.inc(count)
            cost_child.inc(float(cost.amount))
            charge_child.inc(float(charge.amount))

    def _money_children(self, key: tuple[str, str, str, str]) -> _MoneyChildren:
        """The labelled children of a client, model and currencies, looked up once (a
        `labels()` call validates and locks each time)."""
        client, model, cost_currency, charge_currency = key
        children = (
            tuple(self._tokens.labels(client, model, label) for label in TOKEN_CLASSES),
            self._cost.labels(client, model, cost_currency),
            self._charge.labels(client, model, charge_currency),
        )
        self._money[key] = children
        return children

    def upstream(self, provider: str, seconds: float) -> None:
        self._upstream_seconds.labels(provider).observe(seconds)

    def fallback(self, model_id: str) -> None:
        self._fallbacks.labels(model_id).inc()

    def refused(self, reason: Refusal) -> None:
        self._refusals.labels(reason.value).inc()

    def request(
        self,
        route: str,
        measure: RequestMeasure,
        status: int,
        seconds: float,
        first_byte_seconds: float | None,
    ) -> None:
        status_class = f"{status // 100}xx" if status else "none"  # none: no response sent
        key = (route, measure.model, measure.provider, status_class)
        count = self._counts.get(key)
        if count is None:
            count = self._counts[key] = self._requests.labels(*key)
        count.inc()
        timers = self._routes.get(route)
        if timers is None:
            timers = self._routes[route] = (
                self._request_seconds.labels(route),
                self._overhead_seconds.labels(route),
                self._first_byte_seconds.labels(route),
            )
        timers[0].observe(seconds)
        if measure.model:  # a model call: what the gateway added to the providers' time
            timers[1].observe(max(0.0, seconds - measure.upstream_seconds))
        if first_byte_seconds is not None:
            timers[2].observe(first_byte_seconds)

    def write_batch(self, size: int, seconds: float) -> None:
        self._batch_size.observe(size)
        self._batch_seconds.observe(seconds)

    def loop_succeeded(self, loop: str) -> None:
        self._loop_success.labels(loop).set(time.time())

    # -- the adapter's own ---------------------------------------------------------------

    def pool_in_use(self, connections: int) -> None:
        self._pool_in_use.set(connections)

    def exposition(self, reading: Reading) -> tuple[bytes, str]:
        """The text format of every process's metrics plus `reading`."""
        self._scraped.reading = reading
        if not self.multiprocess:
            return generate_latest(self._registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()  # per scrape, as the client's documentation does it
        _collect_processes(registry, path=self.multiprocess_dir)  # registers itself
        registry.register(self._scraped)
        return generate_latest(registry), CONTENT_TYPE_LATEST

    def close(self) -> None:
        """At a worker's shutdown: its live gauges leave the sums."""
        if self.multiprocess:
            _mark_dead(os.getpid(), self.multiprocess_dir)
