"""Ports the whole core shares: the clock, the configuration revision, and the unit of work that
composes every concept's repositories (each declared in its concept's `ports` module) into one
transaction. Adapters implement these Protocols."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from domain.access.ports import (
    ApiKeyRepository,
    PortalTokenRepository,
    StaffTokenRepository,
)
from domain.alerting.ports import AlertRepository, WebhookRepository
from domain.billing.exchange_ports import ExchangeRateRepository
from domain.billing.ports import ClientRepository, PlanRepository
from domain.budgets.ports import BudgetRepository
from domain.catalog.ports import CatalogRepository
from domain.delivery.ports import InvoiceMailRepository
from domain.invoicing.ports import InvoiceRepository, LedgerRepository, SettlementRepository
from domain.invoicing.tax_ports import TaxRepository
from domain.metering.ports import (
    IdempotencyRepository,
    JournalRepository,
    LeaseRepository,
    UsageRepository,
)
from domain.payments.processor import PaymentRepository
from domain.wallets.ports import WalletRepository


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class ConfigRevision(Protocol):
    async def current(self) -> int:
        """The revision of keys, clients, plans, the catalog and budgets: every committed write
        to any of them, from any process, changes it. The database adapter reads it after the
        call began; runtime.lookups.RevisionWatch answers from a read begun at most a second
        earlier and after this process's last change."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository. Leaving the block without `commit()` rolls back."""

    clients: ClientRepository
    plans: PlanRepository
    keys: ApiKeyRepository
    catalog: CatalogRepository
    usage: UsageRepository
    ledger: LedgerRepository
    journal: JournalRepository
    leases: LeaseRepository
    idempotency: IdempotencyRepository
    staff_tokens: StaffTokenRepository
    portal_tokens: PortalTokenRepository
    alerts: AlertRepository
    budgets: BudgetRepository
    webhooks: WebhookRepository
    wallets: WalletRepository
    rates: ExchangeRateRepository  # exchange rates (docs/currencies.md)

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class InvoicingUnitOfWork(UnitOfWork, Protocol):
    invoices: InvoiceRepository
    invoice_mails: InvoiceMailRepository  # the invoice email outbox (domain/delivery)
    tax: TaxRepository
    payments: PaymentRepository
    settlements: SettlementRepository  # settled estimates (docs/reconciliation.md)


class InvoicingUnitOfWorkFactory(Protocol):
    def __call__(self) -> InvoicingUnitOfWork: ...
