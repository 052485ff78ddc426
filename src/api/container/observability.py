"""What the running gateway reports: traces (OTLP when configured), Prometheus metrics and their
scrapes, and the checks behind `/readyz`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.health import database_check, redis_check
from api.readiness import Readiness, writer_check
from api.settings import Settings
from domain.ports import Clock
from domain.telemetry import NO_TELEMETRY, Telemetry
from domain.tracing import NO_TRACER, Tracer
from domain.usecases.budgets import BudgetUseCases
from domain.usecases.metering import Metering

# Either turns tracing on (OpenTelemetry's variables: the exporter reads them itself).
OTLP_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")

if TYPE_CHECKING:  # imported when metrics are on only: prometheus-client picks its mode then
    from adapters.telemetry.probe import DatabaseProbe
    from adapters.telemetry.prometheus import PrometheusTelemetry
    from api.container import Container


def tracing_configured(environ: Mapping[str, str]) -> bool:
    """An OTLP endpoint is set and OpenTelemetry is not disabled (OTEL_SDK_DISABLED)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(environ.get(name, "").strip() for name in OTLP_ENDPOINT_VARIABLES)


def build_tracer(environ: Mapping[str, str] = os.environ) -> Tracer:
    """Spans exported over OTLP when configured (docs/operations.md, Traces); otherwise the
    no-op tracer, and the OpenTelemetry SDK is not even imported."""
    if not tracing_configured(environ):
        return NO_TRACER
    from adapters.tracing import otlp_tracer

    return otlp_tracer()


def build_telemetry(settings: Settings) -> Telemetry:
    """Prometheus metrics when BIZGRAPH_METRICS is on, else the no-op port."""
    if not settings.metrics.enabled:
        return NO_TELEMETRY
    from adapters.telemetry.prometheus import PrometheusTelemetry

    return PrometheusTelemetry()


def build_probe(
    settings: Settings, engine: AsyncEngine, clock: Clock, budgets: BudgetUseCases
) -> DatabaseProbe | None:
    if not settings.metrics.enabled:
        return None
    from adapters.telemetry.probe import DatabaseProbe

    return DatabaseProbe(engine, clock, budgets.client_statuses)


def prometheus(container: Container) -> PrometheusTelemetry | None:
    telemetry = container.telemetry()
    if not telemetry.enabled:  # never import the client with metrics off
        return None
    from adapters.telemetry.prometheus import PrometheusTelemetry

    return telemetry if isinstance(telemetry, PrometheusTelemetry) else None


async def scrape_metrics(container: Container) -> tuple[bytes, str] | None:
    """`GET /metrics`: the text exposition and its content type; None with metrics off."""
    probe = container.metrics_probe()
    if probe is None or (telemetry := prometheus(container)) is None:
        return None
    reading = await probe.read()
    telemetry.pool_in_use(probe.pool_in_use())
    return telemetry.exposition(reading)


async def sample_metrics(container: Container) -> None:
    """Per-process values a scrape answered by another worker cannot read (every 5 s)."""
    probe = container.metrics_probe()
    if probe is not None and (telemetry := prometheus(container)) is not None:
        telemetry.pool_in_use(probe.pool_in_use())


def build_readiness(engine: AsyncEngine, metering: Metering, redis_url: str | None) -> Readiness:
    """`/readyz`'s checks: the database, the hot path's writer, Redis when configured."""
    checks = {"database": database_check(engine), "writer": writer_check(metering)}
    closers = []
    if redis_url:
        checks["redis"], close = redis_check(redis_url)
        closers.append(close)
    return Readiness(checks, closers=closers)
