"""The composition root: the only module that names concrete adapters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dependency_injector import containers, providers

from adapters.clock import SystemClock
from adapters.persistence.byok import SqlByokStore
from adapters.persistence.database import create_engine
from adapters.persistence.reconciliation import SqlReconciliationStore
from adapters.persistence.revision import SqlConfigRevision
from adapters.persistence.unit_of_work import unit_of_work_factory
from adapters.rendering import InvoiceFiles
from adapters.rendering.journal_csv import journal_csv
from adapters.security import HmacKeyHasher
from api.alerting_settings import (
    DISPATCH_BATCH,
    DISPATCH_CONCURRENCY,
    delivery_lease,
    email_enabled,
    retry_policy,
    spike_rule,
)
from api.container.byok import build_cipher, build_credential_check
from api.container.database import build_call_log
from api.container.delivery import build_invoice_mailer, dunning_policy, mail_terms
from api.container.model_providers import build_providers, build_usage_reports, drift_rule
from api.container.observability import (
    build_probe,
    build_readiness,
    build_telemetry,
    build_tracer,
    prometheus,
)
from api.container.payments import build_payments
from api.container.terms import (
    BILLING_CURRENCIES,
    account_chart,
    agency_details,
    build_rate_limits,
    build_sender,
    invoice_terms,
    lease_terms,
    longest_call,
)
from api.rest.gateway import Gateway
from api.settings import Settings
from domain.ids import new_id
from domain.usecases.access import AccessUseCases
from domain.usecases.accounting import AccountingExports
from domain.usecases.alerts import AlertUseCases
from domain.usecases.aliases import AliasUseCases
from domain.usecases.budgets import BudgetUseCases
from domain.usecases.byok import ByokUseCases
from domain.usecases.calls import ModelCalls
from domain.usecases.catalog import CatalogUseCases
from domain.usecases.clients import ClientUseCases
from domain.usecases.dunning import Dunning
from domain.usecases.estimate_settlements import EstimateSettlements
from domain.usecases.idempotency import IdempotencyUseCases
from domain.usecases.invoice_desk import Documents
from domain.usecases.invoice_mail import InvoiceMailing
from domain.usecases.invoicing import InvoiceUseCases
from domain.usecases.keys import KeyUseCases
from domain.usecases.leases import ProcessLeases
from domain.usecases.management import UseCases
from domain.usecases.metering import Metering
from domain.usecases.rates import RateUseCases
from domain.usecases.reconciliation import Reconciliation
from domain.usecases.reports import ReportUseCases
from domain.usecases.spikes import SpikeEvaluator
from domain.usecases.tax import TaxUseCases
from domain.usecases.wallet_keeper import WalletKeeper
from domain.usecases.wallets import WalletUseCases
from domain.usecases.webhooks import WebhookDispatcher, WebhookUseCases
from runtime.byok_cache import ByokCache
from runtime.group_commit import GroupCommit
from runtime.lookups import Lookups, RevisionWatch
from runtime.relay import RelayPool

if TYPE_CHECKING:  # imported when metrics are on only: prometheus-client picks its mode then
    pass


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
    # None unless Stripe is configured (docs/payments.md): the PaymentLinks of documents and mail.
    # Crediting a wallet needs no processor, so the processor's events credit through this one
    # (the `wallets` below also take the processor's ports, which would make a cycle).
    wallet_credits = providers.Singleton(WalletUseCases, uow=uow, clock=clock, reads=reads)
    payments = providers.Singleton(build_payments, settings, uow, clock, wallet_credits)
    documents = providers.Singleton(
        Documents,
        renderer=providers.Singleton(InvoiceFiles),
        agency=providers.Callable(agency_details, settings),
        links=payments,
    )
    # Invoices by email (docs/delivery.md), with the pay link when payments are on.
    invoice_mail = providers.Singleton(
        InvoiceMailing,
        uow=uow,
        links=payments,
        clock=clock,
        documents=documents,
        mailer=providers.Singleton(build_invoice_mailer, settings),
        terms=providers.Callable(mail_terms, settings),
        zone=settings.provided.timezone,
        reads=reads,
    )
    dunning = providers.Singleton(
        Dunning,
        uow=uow,
        clock=clock,
        mailing=invoice_mail,
        policy=providers.Callable(dunning_policy, settings),
        reads=reads,
    )
    invoicing = providers.Singleton(
        InvoiceUseCases,
        uow=uow,
        clock=clock,
        zone=settings.provided.timezone,
        terms=providers.Callable(invoice_terms, settings),
        reads=reads,
        on_finalized=invoice_mail.provided.finalized,
    )
    clients = providers.Singleton(
        ClientUseCases,
        uow=uow,
        clock=clock,
        zone=settings.provided.timezone,
        currencies=BILLING_CURRENCIES,
        in_closed_period=invoicing.provided.in_closed_period,
    )
    rates = providers.Singleton(RateUseCases, uow=uow, clock=clock)  # docs/currencies.md
    reports = providers.Singleton(
        ReportUseCases,
        reads=reads,
        clock=clock,
        zone=settings.provided.timezone,
        invoiced=invoicing.provided.invoiced_revenue,
        rates=rates.provided.book,
        reporting_currency=settings.provided.reporting_currency,
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
    # estimated calls settled at the provider's figures (docs/reconciliation.md)
    settlements = providers.Singleton(
        EstimateSettlements, uow=uow, clock=clock, zone=settings.provided.timezone, reads=reads
    )
    tax = providers.Singleton(TaxUseCases, uow=uow, clock=clock, reads=reads)
    accounting = providers.Singleton(
        AccountingExports,
        reads=reads,
        zone=settings.provided.timezone,
        chart=providers.Callable(account_chart, settings),
        render=providers.Object(journal_csv),
    )
    # The payment processor's ports (domain/payments/ports.py) are `payments`: None without
    # one, so the portal's top-up button is disabled and auto top-up cannot be switched on.
    wallets = providers.Singleton(
        WalletUseCases,
        uow=uow,
        clock=clock,
        reads=reads,
        checkout=payments,
        saved_methods=payments,
    )
    wallet_keeper = providers.Singleton(
        WalletKeeper,
        uow=uow,
        clock=clock,
        wallets=wallets,
        zone=settings.provided.timezone,
        saved_methods=payments,
        reads=reads,
    )
    # Clients' own provider keys (docs/byok.md), decrypted once per configuration revision.
    byok_store = providers.Singleton(
        SqlByokStore, engine, on_change=config_revision.provided.changed
    )
    byok = providers.Singleton(
        ByokUseCases,
        store=byok_store,
        cipher=providers.Singleton(build_cipher, settings),
        check=providers.Singleton(build_credential_check, settings),
        clock=clock,
        allow_private=settings.provided.allow_private_urls,
    )
    byok_cache = providers.Singleton(
        ByokCache,
        load=byok.provided.configuration,
        revision=config_revision,
        touch=byok.provided.note_used,
        now=clock.provided.now,
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
        settlements=settlements,
        invoice_mail=invoice_mail,
        dunning=dunning,
        tax=tax,
        accounting=accounting,
        payments=payments,
        wallets=wallets,
        byok=byok,
        rates=rates,
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
        byok=byok_cache,
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
        credentialed=provider_registry,
        byok=byok_cache,
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


def make_container(settings: Settings) -> Container:
    return Container(settings=settings)


async def close_container(container: Container) -> None:
    """Release pooled connections (provider clients and the database engine). Each provider
    owns its HTTP client, whose connection pool opens on first use only."""
    await container.provider_registry().aclose()
    await container.webhook_sender().aclose()
    await container.reconciliation().aclose()
    await container.byok_cache().flush()
    await container.rate_limits().aclose()
    if (payments := container.payments()) is not None:
        await payments.close()
    if (call_log := container.call_log()) is not None:
        await call_log.aclose()
    await container.readiness().aclose()
    await container.engine().dispose()
    if (telemetry := prometheus(container)) is not None:
        telemetry.close()
