"""Telemetry: what the gateway counts and times for an operator's dashboards (Prometheus,
docs/operations.md "Metrics"). The port is a class of no-op methods: with metrics off the hot
path calls these and pays a method call, nothing more. Label values are ids the gateway chose
(client and model ids, provider names, route templates, reasons), never request input.

A request's own measure (the model that answered, time spent upstream) lives in a context
variable set by the HTTP layer only when metrics are on; `note_*` are no-ops otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from enum import StrEnum

from domain.metering.usage import UsageRecord


class Refusal(StrEnum):
    """Why a call was refused before any provider saw it."""

    BUDGET = "budget"
    RATE_LIMIT = "rate_limit"
    SUSPENDED = "suspended"
    NOT_ALLOWED = "not_allowed"  # the key's model allow-list
    AUTH = "auth"  # a missing or invalid API key


class RequestMeasure:
    """Filled in while a request is served; read by the HTTP layer when it is done."""

    __slots__ = ("model", "provider", "upstream_seconds")

    def __init__(self) -> None:
        self.model = ""
        self.provider = ""
        self.upstream_seconds = 0.0


_MEASURE: ContextVar[RequestMeasure | None] = ContextVar("bizgraph_measure", default=None)


def begin_measure() -> RequestMeasure:
    """Called per request by the HTTP layer (metrics on only); each request runs in its own
    task, whose context copy dies with it."""
    measure = RequestMeasure()
    _MEASURE.set(measure)
    return measure


def note_model(model_id: str, provider: str) -> None:
    """The catalog model serving the current request (the answering one after a fallback)."""
    measure = _MEASURE.get()
    if measure is not None:
        measure.model = model_id
        measure.provider = provider


def note_upstream(seconds: float) -> None:
    """Time the current request spent waiting on providers (every attempt's)."""
    measure = _MEASURE.get()
    if measure is not None:
        measure.upstream_seconds += seconds


class Telemetry:
    """The no-op default; the Prometheus adapter overrides every method."""

    __slots__ = ()  # the shared no-op (NO_TELEMETRY) holds no state
    enabled = False

    def settled(self, records: Sequence[UsageRecord]) -> None:
        """Usage records just written: tokens by class, cost and charge."""

    def upstream(self, provider: str, seconds: float) -> None:
        """One provider attempt's duration (to its answer, or to the end of its stream)."""

    def fallback(self, model_id: str) -> None:
        """A call of `model_id` tried one of its fallbacks."""

    def refused(self, reason: Refusal) -> None:
        """A call refused before it reached a provider."""

    def request(
        self,
        route: str,
        measure: RequestMeasure,
        status: int,
        seconds: float,
        first_byte_seconds: float | None,
    ) -> None:
        """One HTTP request done: `first_byte_seconds` for a streamed answer only."""

    def write_batch(self, size: int, seconds: float) -> None:
        """One transaction of the hot path's writer (may be called from its thread)."""

    def loop_succeeded(self, loop: str) -> None:
        """A background loop's cycle completed."""


NO_TELEMETRY = Telemetry()
