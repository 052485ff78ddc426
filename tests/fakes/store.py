"""Everything the fake repositories hold, and the base class that reaches it through a unit of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from domain.access.keys import ApiKey
from domain.access.principals import PortalToken, StaffToken
from domain.alerting.alerts import Alert
from domain.alerting.webhooks import Delivery, Webhook
from domain.billing.clients import Client
from domain.billing.exchange import ExchangeRate
from domain.billing.plans import PlanVersion
from domain.budgets.limits import Budget
from domain.catalog.aliases import AliasKey, ModelAlias
from domain.catalog.models import Model, PriceVersion
from domain.errors import NotFound
from domain.invoicing.ledger import LedgerEntry
from domain.metering.idempotency import IdempotencyRecord
from domain.metering.journal import JournalEntry
from domain.metering.leases import ProcessLease
from domain.metering.usage import UsageRecord
from domain.wallets.statement import WalletEntry
from domain.wallets.wallets import Wallet


@dataclass
class InMemoryStore:
    """Everything the repositories hold. Values are frozen dataclasses, so copying the
    containers is enough to snapshot the store."""

    clients: dict[str, Client] = field(default_factory=dict)
    plans: dict[str, PlanVersion] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)
    prices: dict[str, list[PriceVersion]] = field(default_factory=dict)
    usage: dict[tuple[str, int], UsageRecord] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    journal: dict[str, JournalEntry] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    staff_tokens: dict[str, StaffToken] = field(default_factory=dict)
    portal_tokens: dict[str, PortalToken] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)
    budgets: dict[str, Budget] = field(default_factory=dict)
    # (scope, period_start) -> [spent, reserved]; (request_id, scope) -> (period_start, amount)
    counters: dict[tuple[str, datetime], tuple[Decimal, Decimal]] = field(default_factory=dict)
    holds: dict[tuple[str, str], tuple[datetime, Decimal]] = field(default_factory=dict)
    # (process_id, scope, period_start) -> amount: the budget leases, part of `reserved`
    budget_leases: dict[tuple[str, str, datetime], Decimal] = field(default_factory=dict)
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    leases: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # delivery: claim, until
    process_leases: dict[str, ProcessLease] = field(default_factory=dict)
    aliases: dict[AliasKey, ModelAlias] = field(default_factory=dict)
    wallets: dict[str, Wallet] = field(default_factory=dict)
    wallet_entries: list[WalletEntry] = field(default_factory=list)  # the balance: counters
    auto_top_ups: dict[str, datetime] = field(default_factory=dict)  # client -> last attempt
    exchange_rates: dict[tuple[str, str, date], ExchangeRate] = field(default_factory=dict)

    def copy(self) -> InMemoryStore:
        return InMemoryStore(
            clients=dict(self.clients),
            plans=dict(self.plans),
            keys=dict(self.keys),
            models=dict(self.models),
            prices={model_id: list(vs) for model_id, vs in self.prices.items()},
            usage=dict(self.usage),
            ledger=list(self.ledger),
            journal=dict(self.journal),
            idempotency=dict(self.idempotency),
            staff_tokens=dict(self.staff_tokens),
            portal_tokens=dict(self.portal_tokens),
            alerts=dict(self.alerts),
            budgets=dict(self.budgets),
            counters=dict(self.counters),
            holds=dict(self.holds),
            budget_leases=dict(self.budget_leases),
            webhooks=dict(self.webhooks),
            deliveries=dict(self.deliveries),
            leases=dict(self.leases),
            process_leases=dict(self.process_leases),
            aliases=dict(self.aliases),
            wallets=dict(self.wallets),
            wallet_entries=list(self.wallet_entries),
            auto_top_ups=dict(self.auto_top_ups),
            exchange_rates=dict(self.exchange_rates),
        )

    def load(self, other: InMemoryStore) -> None:
        """Replace this store's contents with a copy of `other`'s."""
        snapshot = other.copy()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(snapshot, name))


class Working(Protocol):
    """What a repository needs of its unit of work: the working copy of the store."""

    working: InMemoryStore


class Repository:
    def __init__(self, uow: Working) -> None:
        self._uow = uow

    @property
    def _data(self) -> InMemoryStore:
        return self._uow.working

    def _require(self, kind: str, found: bool, row_id: str | None) -> None:
        """A row referring to a missing parent is NotFound, as the SQL store's foreign keys
        make it."""
        if not found:
            raise NotFound(f"no {kind} {row_id}")
