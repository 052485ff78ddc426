"""The composition root: the only module that names concrete adapters."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from dependency_injector import containers, providers
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import SystemClock
from adapters.default_catalog import load_default_catalog
from adapters.health import database_check, redis_check
from adapters.notifications.email import ChannelSender, SmtpEmailSender, SmtpSettings
from adapters.notifications.webhooks import HttpxWebhookSender
from adapters.persistence.backup.common import BackupError as BackupError  # re-exported for the CLI
from adapters.persistence.backup.common import BackupReport as BackupReport
from adapters.persistence.backup.common import RestoreReport as RestoreReport
from adapters.persistence.backup.common import describe_counts as describe_counts
from adapters.persistence.backup.operations import backup as backup_to
from adapters.persistence.backup.operations import restore as restore_from
from adapters.persistence.call_log.postgres import PostgresCallLog
from adapters.persistence.call_log.sqlite import SqliteCallLog
from adapters.persistence.database import async_url, create_engine, sqlite_path
from adapters.persistence.migrate import SchemaStatus, schema_status, upgrade
from adapters.persistence.reconciliation import SqlReconciliationStore
from adapters.persistence.revision import SqlConfigRevision
from adapters.persistence.unit_of_work import unit_of_work_factory
from adapters.providers.anthropic import AnthropicProvider
from adapters.providers.demo import DemoProvider
from adapters.providers.gemini import GeminiProvider
from adapters.providers.openai import OpenAICompatibleProvider
from adapters.providers.registry import StaticProviderRegistry
from adapters.ratelimits.memory import InMemoryRateLimiter
from adapters.ratelimits.redis import RedisRateLimiter
from adapters.reconciliation.anthropic_usage import ANTHROPIC_ADMIN_BASE, AnthropicUsageReports
from adapters.reconciliation.csv_imports import gemini_billing_rows, invoice_rows
from adapters.reconciliation.openai_usage import OPENAI_ADMIN_BASE, OpenAIUsageReports
from adapters.rendering import InvoiceFiles
from adapters.security import HmacKeyHasher
from api.alerting_settings import (
    DISPATCH_BATCH,
    DISPATCH_CONCURRENCY,
    delivery_lease,
    email_enabled,
    retry_policy,
    spike_rule,
)
from api.readiness import Readiness, writer_check
from api.rest.gateway import Gateway
from api.settings import Settings
from api.settings_sections import SmtpSecurity
from domain.catalog import Model, PriceVersion
from domain.ids import new_id
from domain.invoicing_ports import AgencyDetails
from domain.leases import LeaseTerms
from domain.ports import CallLog, Clock
from domain.providers import (
    ModelProvider,
    NativeGeminiProvider,
    NativeMessagesProvider,
    NativeResponsesProvider,
)
from domain.reconciliation import ProviderFigures
from domain.telemetry import NO_TELEMETRY, Telemetry
from domain.tracing import NO_TRACER, Tracer
from domain.usecases.access import AccessUseCases
from domain.usecases.alerts import AlertUseCases
from domain.usecases.aliases import AliasUseCases
from domain.usecases.budgets import BudgetUseCases
from domain.usecases.calls import ModelCalls
from domain.usecases.catalog import CatalogUseCases
from domain.usecases.clients import ClientUseCases
from domain.usecases.idempotency import IdempotencyUseCases
from domain.usecases.invoice_desk import Documents
from domain.usecases.invoicing import InvoiceTerms, InvoiceUseCases
from domain.usecases.keys import KeyUseCases
from domain.usecases.leases import ProcessLeases
from domain.usecases.management import UseCases
from domain.usecases.metering import Metering
from domain.usecases.ratelimits import RateLimits
from domain.usecases.reconciliation import DriftRule, ProviderUsageReports, Reconciliation
from domain.usecases.reports import ReportUseCases
from domain.usecases.spikes import SpikeEvaluator
from domain.usecases.webhooks import WebhookDispatcher, WebhookUseCases
from runtime.group_commit import GroupCommit
from runtime.lookups import Lookups, RevisionWatch
from runtime.relay import RelayPool

if TYPE_CHECKING:  # imported when metrics are on only: prometheus-client picks its mode then
    from adapters.telemetry.probe import DatabaseProbe
    from adapters.telemetry.prometheus import PrometheusTelemetry

OPENAI_DEFAULT_BASE = "https://api.openai.com/v1"
ANTHROPIC_DEFAULT_BASE = "https://api.anthropic.com"
GEMINI_DEFAULT_BASE = "https://generativelanguage.googleapis.com"


def build_providers(settings: Settings) -> StaticProviderRegistry:
    """The demo provider always; each real provider when its key or base URL is configured
    (a keyless base URL serves self-hosted OpenAI-compatible servers such as vLLM or Ollama)."""
    timeouts = settings.timeouts
    chat: dict[str, ModelProvider] = {"demo": DemoProvider()}
    native: dict[str, NativeMessagesProvider] = {}
    responses: dict[str, NativeResponsesProvider] = {}
    native_gemini: dict[str, NativeGeminiProvider] = {}
    if settings.openai.api_key or settings.openai.base_url:
        base = settings.openai.base_url or OPENAI_DEFAULT_BASE
        openai = OpenAICompatibleProvider("openai", base, settings.openai.api_key, timeouts)
        chat["openai"] = openai
        if settings.openai.native_responses:
            responses["openai"] = openai
    if settings.anthropic.api_key or settings.anthropic.base_url:
        base = settings.anthropic.base_url or ANTHROPIC_DEFAULT_BASE
        anthropic = AnthropicProvider("anthropic", base, settings.anthropic.api_key, timeouts)
        chat["anthropic"] = native["anthropic"] = anthropic
    if settings.gemini.api_key or settings.gemini.base_url:
        base = settings.gemini.base_url or GEMINI_DEFAULT_BASE
        gemini = GeminiProvider("gemini", base, settings.gemini.api_key, timeouts)
        chat["google"] = gemini
        native_gemini["google"] = gemini
    return StaticProviderRegistry(chat, native, responses, native_gemini)


def build_usage_reports(settings: Settings) -> dict[str, ProviderUsageReports]:
    """The providers' reporting APIs whose admin credential is configured (their `provider`
    is the catalog's provider name, so the reports meet the usage records)."""
    sources: dict[str, ProviderUsageReports] = {}
    if key := settings.openai.admin_key:
        base = settings.openai.admin_base_url or OPENAI_ADMIN_BASE
        sources["openai"] = OpenAIUsageReports(key, base, provider="openai")
    if key := settings.anthropic.admin_key:
        base = settings.anthropic.admin_base_url or ANTHROPIC_ADMIN_BASE
        sources["anthropic"] = AnthropicUsageReports(key, base, provider="anthropic")
    return sources


def drift_rule(settings: Settings) -> DriftRule:
    given = settings.reconcile
    return DriftRule(percent=given.drift_percent, minimum=given.drift_minimum)


def read_report_file(kind: str, text: str, provider: str) -> list[ProviderFigures]:
    """`bizgraph reconcile import`: "invoice" (Bizgraph's CSV columns, any provider) or
    "gemini-billing" (a Cloud Billing CSV export)."""
    if kind == "gemini-billing":
        return gemini_billing_rows(text, provider)
    return invoice_rows(text, provider)


# One currency for prices and clients until exchange rates come with invoicing (issue 6): the
# bundled catalog is in USD, and sums across currencies would be meaningless.
BILLING_CURRENCIES = frozenset({"USD"})


# Either turns tracing on (OpenTelemetry's variables: the exporter reads them itself).
OTLP_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


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


def build_call_log(settings: Settings, telemetry: Telemetry = NO_TELEMETRY) -> CallLog | None:
    """The hot path's own writer: a thread for a SQLite file, asyncpg for PostgreSQL; None
    (the unit of work) for an in-memory SQLite database. With metrics on, it reports each
    batch it commits."""
    log: SqliteCallLog | PostgresCallLog
    if (path := sqlite_path(settings.database_url)) is not None:
        log = SqliteCallLog(path)
    elif make_url(async_url(settings.database_url)).get_backend_name() == "postgresql":
        log = PostgresCallLog(settings.database_url)
    else:
        return None
    if telemetry.enabled:
        log.observe = telemetry.write_batch
    return log


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


def _prometheus(container: Container) -> PrometheusTelemetry | None:
    telemetry = container.telemetry()
    if not telemetry.enabled:  # never import the client with metrics off
        return None
    from adapters.telemetry.prometheus import PrometheusTelemetry

    return telemetry if isinstance(telemetry, PrometheusTelemetry) else None


async def scrape_metrics(container: Container) -> tuple[bytes, str] | None:
    """`GET /metrics`: the text exposition and its content type; None with metrics off."""
    probe = container.metrics_probe()
    if probe is None or (telemetry := _prometheus(container)) is None:
        return None
    reading = await probe.read()
    telemetry.pool_in_use(probe.pool_in_use())
    return telemetry.exposition(reading)


async def sample_metrics(container: Container) -> None:
    """Per-process values a scrape answered by another worker cannot read (every 5 s)."""
    probe = container.metrics_probe()
    if probe is not None and (telemetry := _prometheus(container)) is not None:
        telemetry.pool_in_use(probe.pool_in_use())


def build_readiness(engine: AsyncEngine, metering: Metering, redis_url: str | None) -> Readiness:
    """`/readyz`'s checks: the database, the hot path's writer, Redis when configured."""
    checks = {"database": database_check(engine), "writer": writer_check(metering)}
    closers = []
    if redis_url:
        checks["redis"], close = redis_check(redis_url)
        closers.append(close)
    return Readiness(checks, closers=closers)


def build_rate_limits(settings: Settings) -> RateLimits:
    """Shared buckets in Redis when configured (per-process buckets while it is down), else
    this process's own."""
    if settings.redis_url:
        return RateLimits(RedisRateLimiter(settings.redis_url), fallback=InMemoryRateLimiter())
    return RateLimits(InMemoryRateLimiter())


def longest_call(settings: Settings) -> timedelta:
    """No call can run longer than this (its total deadline plus the post-disconnect drain):
    a journal row or idempotency claim older than that belongs to a crashed process."""
    return timedelta(seconds=settings.timeouts.total + settings.drain_after_disconnect_seconds)


def lease_terms(settings: Settings) -> LeaseTerms:
    return LeaseTerms(
        lease=timedelta(seconds=settings.lease_seconds),
        heartbeat=timedelta(seconds=settings.heartbeat_seconds),
    )


def build_sender(settings: Settings) -> ChannelSender:
    """HTTP webhooks always; email for `mailto:` webhooks when SMTP is configured."""
    timeout = settings.webhooks.timeout_seconds
    http = HttpxWebhookSender(timeout_seconds=timeout, allow_private=settings.allow_private_urls)
    email = settings.email
    if email is None:
        return ChannelSender(http, None)
    smtp = SmtpSettings(
        host=email.host,
        port=email.port,
        sender=email.sender,
        username=email.username,
        password=email.password,
        starttls=email.security is SmtpSecurity.STARTTLS,
        tls=email.security is SmtpSecurity.TLS,
    )
    return ChannelSender(http, SmtpEmailSender(smtp, timeout_seconds=timeout))


def invoice_terms(settings: Settings) -> InvoiceTerms:
    given = settings.invoices
    return InvoiceTerms(due_days=given.due_days, grace=timedelta(hours=given.grace_hours))


def agency_details(settings: Settings) -> AgencyDetails:
    given = settings.invoices
    return AgencyDetails(given.agency_name, given.agency_address, given.agency_logo_url)


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    hasher = providers.Singleton(HmacKeyHasher, server_secret=settings.provided.secret_key)
    engine = providers.Singleton(create_engine, settings.provided.database_url)
    # The revision checked in the background by `bizgraph serve` (api/background.py), told
    # at once of this process's own configuration commits.
    config_revision = providers.Singleton(
        RevisionWatch, providers.Singleton(SqlConfigRevision, engine)
    )
    uow = providers.Singleton(
        unit_of_work_factory, engine, on_config_change=config_revision.provided.changed
    )
    reads = providers.Singleton(unit_of_work_factory, engine, read_only=True)
    provider_registry = providers.Singleton(build_providers, settings)

    # The application runtime (src/runtime/): one of each per container, so per application.
    lookups = providers.Singleton(Lookups, reads=reads, revision=config_revision)
    writes = providers.Singleton(GroupCommit, uow)  # the per-call writes share their commits
    relays = providers.Singleton(RelayPool)  # the streams in flight, waited for at shutdown

    keys = providers.Singleton(KeyUseCases, uow=uow, clock=clock, hasher=hasher, lookups=lookups)

    catalog = providers.Singleton(CatalogUseCases, uow=uow, currencies=BILLING_CURRENCIES)
    invoicing = providers.Singleton(
        InvoiceUseCases,
        uow=uow,
        clock=clock,
        zone=settings.provided.timezone,
        terms=providers.Callable(invoice_terms, settings),
        reads=reads,
    )
    documents = providers.Singleton(
        Documents,
        renderer=providers.Singleton(InvoiceFiles),
        agency=providers.Callable(agency_details, settings),
    )
    clients = providers.Singleton(
        ClientUseCases,
        uow=uow,
        clock=clock,
        zone=settings.provided.timezone,
        currencies=BILLING_CURRENCIES,
        in_closed_period=invoicing.provided.in_closed_period,
    )
    reports = providers.Singleton(
        ReportUseCases,
        reads=reads,
        clock=clock,
        zone=settings.provided.timezone,
        invoiced=invoicing.provided.invoiced_revenue,
    )
    access = providers.Singleton(
        AccessUseCases,
        uow=uow,
        clock=clock,
        hasher=hasher,
        bootstrap_token=settings.provided.admin_token,
        reads=reads,
    )
    budgets = providers.Singleton(
        BudgetUseCases, uow=uow, clock=clock, zone=settings.provided.timezone, reads=reads
    )
    alerts = providers.Singleton(AlertUseCases, uow=uow, clock=clock)
    aliases = providers.Singleton(AliasUseCases, uow=uow, clock=clock)
    webhooks = providers.Singleton(
        WebhookUseCases,
        uow=uow,
        clock=clock,
        hasher=hasher,
        allow_private=settings.provided.allow_private_urls,
        allow_email=providers.Callable(email_enabled, settings),
    )
    webhook_sender = providers.Singleton(build_sender, settings)
    webhook_dispatcher = providers.Singleton(
        WebhookDispatcher,
        uow=uow,
        clock=clock,
        hasher=hasher,
        sender=webhook_sender,
        policy=providers.Callable(retry_policy, settings),
        lease=providers.Callable(delivery_lease, settings),
        reads=reads,
        batch=DISPATCH_BATCH,
        concurrency=DISPATCH_CONCURRENCY,
    )
    spike_evaluator = providers.Singleton(
        SpikeEvaluator, uow=uow, clock=clock, rule=providers.Callable(spike_rule, settings)
    )
    reconciliation = providers.Singleton(
        Reconciliation,
        store=providers.Singleton(SqlReconciliationStore, engine),
        uow=uow,
        clock=clock,
        sources=providers.Singleton(build_usage_reports, settings),
        rule=providers.Callable(drift_rule, settings),
    )
    management = providers.Singleton(
        UseCases,
        clients=clients,
        keys=keys,
        catalog=catalog,
        reports=reports,
        access=access,
        alerts=alerts,
        webhooks=webhooks,
        invoices=invoicing,
        documents=documents,
        budgets=budgets,
        aliases=aliases,
        reconciliation=reconciliation,
    )
    process_id = providers.Singleton(new_id)  # this process's lease, owner of its journal rows
    process_leases = providers.Singleton(
        ProcessLeases,
        uow=uow,
        clock=clock,
        process_id=process_id,
        terms=providers.Callable(lease_terms, settings),
    )
    telemetry = providers.Singleton(build_telemetry, settings)
    call_log = providers.Singleton(build_call_log, settings, telemetry)
    metering = providers.Singleton(
        Metering,
        uow=uow,
        call_log=call_log,
        lease_live=process_leases.provided.surely_live,
        lease_idle_seconds=settings.provided.budget_lease_idle_seconds,
        clock=clock,
        keys=keys,
        reads=reads,
        zone=settings.provided.timezone,
        process_id=process_id,
        telemetry=telemetry,
        writes=writes,
        lookups=lookups,
    )
    metrics_probe = providers.Singleton(build_probe, settings, engine, clock, budgets)
    readiness = providers.Singleton(
        build_readiness, engine=engine, metering=metering, redis_url=settings.provided.redis_url
    )
    calls = providers.Singleton(
        ModelCalls,
        metering=metering,
        providers=provider_registry,
        drain_seconds=settings.provided.drain_after_disconnect_seconds,
        checkpoint_seconds=settings.provided.stream_checkpoint_seconds,
        telemetry=telemetry,
        relays=relays,
    )
    idempotency = providers.Singleton(
        IdempotencyUseCases,
        uow=uow,
        clock=clock,
        stale_after=providers.Callable(longest_call, settings),
    )
    rate_limits = providers.Singleton(build_rate_limits, settings)
    tracer = providers.Singleton(build_tracer)
    gateway = providers.Singleton(
        Gateway,
        tracer=tracer,
        rate_limits=rate_limits,
        metering=metering,
        calls=calls,
        idempotency=idempotency,
        max_body_bytes=settings.provided.max_body_bytes,
        telemetry=telemetry,
    )


async def database_status(settings: Settings) -> SchemaStatus:
    return await schema_status(settings.database_url)


async def migrate_database(settings: Settings) -> None:
    await upgrade(settings.database_url)


async def backup_database(settings: Settings, path: Path, *, force: bool) -> BackupReport:
    """`bizgraph backup` (adapters/persistence/backup/); BackupError for the user."""
    return await backup_to(settings.database_url, path, force=force)


async def restore_database(settings: Settings, path: Path, *, force: bool) -> RestoreReport:
    """`bizgraph restore` into the configured database; BackupError for the user."""
    return await restore_from(settings.database_url, path, force=force)


def default_catalog() -> tuple[list[Model], list[PriceVersion]]:
    return load_default_catalog()


def make_container(settings: Settings) -> Container:
    return Container(settings=settings)


async def close_container(container: Container) -> None:
    """Release pooled connections (provider clients and the database engine). Each provider
    owns its HTTP client, whose connection pool opens on first use only."""
    await container.provider_registry().aclose()
    await container.webhook_sender().aclose()
    await container.reconciliation().aclose()
    await container.rate_limits().aclose()
    if (call_log := container.call_log()) is not None:
        await call_log.aclose()
    await container.readiness().aclose()
    await container.engine().dispose()
    if (telemetry := _prometheus(container)) is not None:
        telemetry.close()
