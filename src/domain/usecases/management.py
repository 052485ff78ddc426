"""The management API's use cases as one principal may use them.

Built per request from the authenticated principal: reads are scoped to what the principal
may see (a portal token sees its own client and nothing else, whatever ids it sends), writes
need a role that may write. The GraphQL layer checks permissions too; this is where they
cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from domain.access.keys import ApiKey, IssuedKey
from domain.access.principals import (
    IssuedPortalToken,
    IssuedStaffToken,
    NotAllowed,
    PortalToken,
    Principal,
    Role,
    StaffToken,
)
from domain.alerting.alerts import Alert
from domain.alerting.visibility import client_view
from domain.alerting.webhooks import Delivery, IssuedWebhook, Webhook
from domain.billing.clients import Client, ClientStatus
from domain.billing.plans import PlanVersion, PricingPlan
from domain.budgets.limits import BudgetStatus
from domain.catalog.models import Model, PriceHistory, PriceVersion
from domain.errors import NotFound, ValidationError
from domain.invoicing.drafts import PeriodDraft
from domain.metering.usage import UsageRecord, UsageTotals
from domain.reconciliation import ReconciliationTable
from domain.reporting import Reporting
from domain.reports import Bucket, Overview, SeriesPoint
from domain.usecases.access import AccessUseCases
from domain.usecases.accounting import AccountingDesk, AccountingExports
from domain.usecases.alerts import AlertUseCases
from domain.usecases.aliases import AliasDesk, AliasUseCases
from domain.usecases.budgets import BudgetInput, BudgetUseCases
from domain.usecases.byok import ByokDesk, ByokUseCases
from domain.usecases.catalog import CatalogUseCases
from domain.usecases.clients import ClientChanges, ClientUseCases, NewClient
from domain.usecases.delivery_desk import DeliveryDesk
from domain.usecases.dunning import Dunning
from domain.usecases.estimate_settlements import EstimateSettlements
from domain.usecases.invoice_desk import Documents, InvoiceDesk
from domain.usecases.invoice_mail import InvoiceMailing
from domain.usecases.invoicing import InvoiceUseCases
from domain.usecases.keys import KeyUseCases, NewKey
from domain.usecases.payment_desk import PaymentDesk
from domain.usecases.payments import PaymentUseCases
from domain.usecases.rates import RateDesk, RateUseCases
from domain.usecases.reconciliation import DriftRule, Reconciliation
from domain.usecases.reports import ReportUseCases
from domain.usecases.settlement_desk import SettlementDesk
from domain.usecases.tax import TaxDesk, TaxUseCases
from domain.usecases.wallet_desk import WalletDesk
from domain.usecases.wallets import WalletUseCases
from domain.usecases.webhooks import NewWebhook, WebhookUseCases

MAX_ESTIMATED = 1000  # estimated records listed at once


@dataclass(frozen=True, slots=True)
class UseCases:
    """What the management API may call (never the container, never a repository)."""

    clients: ClientUseCases
    keys: KeyUseCases
    catalog: CatalogUseCases
    reports: ReportUseCases
    access: AccessUseCases
    budgets: BudgetUseCases
    invoices: InvoiceUseCases
    documents: Documents
    alerts: AlertUseCases
    webhooks: WebhookUseCases
    aliases: AliasUseCases
    reconciliation: Reconciliation | None = None
    settlements: EstimateSettlements | None = None  # settled estimates (docs/reconciliation.md)
    invoice_mail: InvoiceMailing | None = None  # invoices by email (docs/delivery.md)
    dunning: Dunning | None = None
    tax: TaxUseCases | None = None
    accounting: AccountingExports | None = None
    payments: PaymentUseCases | None = None  # Stripe, when configured
    wallets: WalletUseCases | None = None
    byok: ByokUseCases | None = None  # clients' own provider keys (docs/byok.md)
    rates: RateUseCases | None = None  # exchange rates (docs/currencies.md)


class Management:
    def __init__(self, principal: Principal, use_cases: UseCases) -> None:
        self.principal = principal
        self._uc = use_cases
        self.invoices = InvoiceDesk(principal, use_cases.invoices, use_cases.documents)
        self.aliases = AliasDesk(principal, use_cases.aliases, use_cases.reports)
        self.delivery = DeliveryDesk(
            principal, self.invoices, use_cases.invoice_mail, use_cases.dunning
        )
        self.tax = TaxDesk(principal, use_cases.tax)
        self.accounting = AccountingDesk(principal, use_cases.accounting)
        self.payments = PaymentDesk(principal, use_cases.payments, self.invoices)
        self.wallets = WalletDesk(principal, use_cases.wallets)
        self.byok = ByokDesk(principal, use_cases.byok, use_cases.reports.period)
        self.rates = RateDesk(principal, use_cases.rates)
        self.settlements = SettlementDesk(
            principal, use_cases.settlements, use_cases.reconciliation
        )

    # ------------------------------------------------------------------ guards

    def _require_write(self) -> None:
        if not self.principal.can_mutate:
            raise NotAllowed("this token may not change anything")

    def _require_owner(self) -> None:
        if not self.principal.can_manage_staff:
            raise NotAllowed("only an owner manages staff tokens")

    def _require_costs(self) -> None:
        if not self.principal.can_read_costs:
            raise NotAllowed("provider cost and profit are not visible to this token")

    def _visible(self, client_id: str) -> None:
        if not self.principal.may_see_client(client_id):
            raise NotFound(f"no client {client_id}")  # the same answer as an unknown id

    def _require_staff(self) -> None:
        if self.principal.client_id is not None:
            raise NotAllowed("webhooks are managed by staff only")

    def _scope(self) -> list[str] | None:
        own = self.principal.client_id
        return None if own is None else [own]

    # ------------------------------------------------------------------- reads

    def time_zone(self) -> str:
        return self._uc.reports.zone_name

    async def clients(self) -> Sequence[Client]:
        own = self.principal.client_id
        if own is None:
            return await self._uc.clients.list()
        return [await self._uc.clients.get(own)]

    async def client(self, client_id: str) -> Client | None:
        if not self.principal.may_see_client(client_id):
            return None
        try:
            return await self._uc.clients.get(client_id)
        except NotFound:
            return None

    async def api_keys_of(self, client_ids: Sequence[str]) -> Mapping[str, Sequence[ApiKey]]:
        """The keys of those of `client_ids` this principal may see (one read for all)."""
        visible = [c for c in client_ids if self.principal.may_see_client(c)]
        return await self._uc.keys.for_clients(visible)

    async def plan_history(self, client_id: str) -> Sequence[PlanVersion]:
        self._visible(client_id)
        return await self._uc.clients.plan_history(client_id)

    async def overview(self, period: str | None) -> Overview:
        return await self._uc.reports.overview(period, self._scope())

    async def reporting(self, overview: Overview) -> Reporting:
        """The overview's totals in the agency's reporting currency (staff only)."""
        if self.principal.client_id is not None:
            raise NotAllowed("the reporting currency's totals are for staff only")
        self._require_costs()
        return await self._uc.reports.reporting(overview)

    async def overview_of(self, client_ids: Sequence[str], period: str | None) -> Overview:
        """The figures of those of `client_ids` this principal may see (one read for all)."""
        visible = [c for c in client_ids if self.principal.may_see_client(c)]
        return await self._uc.reports.overview(period, visible)

    async def plan_histories(
        self, client_ids: Sequence[str]
    ) -> Mapping[str, Sequence[PlanVersion]]:
        visible = [c for c in client_ids if self.principal.may_see_client(c)]
        return await self._uc.clients.plan_histories(visible)

    async def client_draft(self, client_id: str, period: str | None) -> PeriodDraft:
        self._visible(client_id)
        return await self._uc.reports.client_draft(client_id, period)

    async def by_model(self, client_id: str, period: str | None) -> list[UsageTotals]:
        self._visible(client_id)
        return await self._uc.reports.by_model(client_id, period)

    async def reconciliation(
        self, start: date, end: date, providers: Sequence[str] | None
    ) -> ReconciliationTable:
        """The drift table (provider cost): staff who may read costs only."""
        self._require_reconciliation()
        if self._uc.reconciliation is None:
            raise NotFound("reconciliation is not available")
        return await self._uc.reconciliation.table(start, end, providers)

    async def reconciled_through(self) -> Mapping[str, date]:
        """Per provider, the last UTC day reconciled (staff only; empty when never)."""
        self._require_reconciliation()
        if self._uc.reconciliation is None:
            return {}
        return await self._uc.reconciliation.reconciled_through()

    def drift_rule(self) -> tuple[Decimal, Decimal]:
        """The alert threshold: (percent of the recorded cost, minimum amount)."""
        found = self._uc.reconciliation
        rule = DriftRule() if found is None else found.rule
        return rule.percent, rule.minimum

    def _require_reconciliation(self) -> None:
        if self.principal.client_id is not None:
            raise NotAllowed("reconciliation is for staff only")
        self._require_costs()

    async def estimated_calls(
        self, client_id: str, period: str | None, first: int
    ) -> list[UsageRecord]:
        """Estimated records to reconcile: staff only (a portal sees its charges, not how
        they were measured)."""
        if self.principal.client_id is not None:
            raise NotAllowed("estimated calls are listed for staff only")
        self._visible(client_id)
        if not 1 <= first <= MAX_ESTIMATED:
            raise ValidationError(f"first must be between 1 and {MAX_ESTIMATED}")
        return await self._uc.reports.estimated(client_id, period, first)

    async def series(self, client_id: str, bucket: Bucket, period: str | None) -> list[SeriesPoint]:
        self._visible(client_id)
        return await self._uc.reports.series(client_id, bucket, period)

    async def total_series(self, bucket: Bucket, period: str | None) -> list[SeriesPoint] | None:
        """The visible clients' usage summed per bucket (the overview's spend over time)."""
        return await self._uc.reports.total_series(bucket, period, self._scope())

    async def models(self) -> Sequence[Model]:
        return await self._uc.catalog.models()

    async def prices(self, model_id: str) -> PriceHistory:
        self._require_costs()
        return await self._uc.catalog.prices(model_id)

    async def budgets_of(
        self, wanted: Sequence[tuple[str, str | None]]
    ) -> Mapping[tuple[str, str | None], BudgetStatus]:
        """Budgets of (client, key or None) pairs this principal may see, in one read."""
        visible = [pair for pair in wanted if self.principal.may_see_client(pair[0])]
        return await self._uc.budgets.of_scopes(visible)

    async def alerts(
        self, client_id: str | None, unacknowledged_only: bool, first: int
    ) -> list[Alert]:
        """Newest first: of `client_id`, or of every visible client when None."""
        if client_id is not None and not self.principal.may_see_client(client_id):
            return []
        scope = self._scope() if client_id is None else [client_id]
        found = await self._uc.alerts.recent(scope, unacknowledged_only, first)
        return found if self.principal.can_read_costs else [client_view(a) for a in found]

    async def webhooks(self, client_id: str | None) -> list[Webhook]:
        self._require_staff()
        return await self._uc.webhooks.webhooks(client_id)

    async def deliveries(self, webhook_ids: Sequence[str], first: int) -> list[Delivery]:
        self._require_staff()
        return await self._uc.webhooks.deliveries(webhook_ids, first)

    async def staff_tokens(self) -> Sequence[StaffToken]:
        self._require_owner()
        return await self._uc.access.staff_tokens()

    # ------------------------------------------------------------------ writes

    async def create_client(self, new: NewClient) -> tuple[Client, PlanVersion]:
        self._require_write()
        return await self._uc.clients.create(new)

    async def update_client(self, client_id: str, changes: ClientChanges) -> Client:
        self._require_write()
        return await self._uc.clients.update(client_id, changes)

    async def set_status(self, client_id: str, status: ClientStatus) -> Client:
        self._require_write()
        return await self._uc.clients.set_status(client_id, status)

    async def set_plan(
        self, client_id: str, plan: PricingPlan, effective_from: datetime | None
    ) -> PlanVersion:
        self._require_write()
        return await self._uc.clients.set_plan(client_id, plan, effective_from)

    async def issue_key(self, new: NewKey) -> IssuedKey:
        self._require_write()
        return await self._uc.keys.issue(new)

    async def revoke_key(self, key_id: str) -> ApiKey:
        self._require_write()
        return await self._uc.keys.revoke(key_id)

    async def set_client_budget(self, client_id: str, new: BudgetInput) -> BudgetStatus:
        self._require_write()
        return await self._uc.budgets.set_for_client(client_id, new)

    async def set_key_budget(self, key_id: str, new: BudgetInput) -> BudgetStatus:
        self._require_write()
        return await self._uc.budgets.set_for_key(key_id, new)

    async def remove_client_budget(self, client_id: str) -> bool:
        self._require_write()
        return await self._uc.budgets.remove_for_client(client_id)

    async def remove_key_budget(self, key_id: str) -> bool:
        self._require_write()
        return await self._uc.budgets.remove_for_key(key_id)

    async def set_key_rate_limits(self, key_id: str, rpm: int | None, tpm: int | None) -> ApiKey:
        """Effective on the key's next request in this process, within a second in others."""
        self._require_write()
        return await self._uc.keys.set_rate_limits(key_id, rpm, tpm)

    async def set_model_price(self, model: Model, price: PriceVersion) -> PriceVersion:
        """A new price version; the model is added first when its id is new."""
        self._require_write()
        return await self._uc.catalog.add_price(price, new_model=model)

    async def create_staff_token(
        self, name: str, role: Role, email: str | None = None
    ) -> IssuedStaffToken:
        self._require_owner()
        return await self._uc.access.create_staff_token(name, role, email)

    async def portal_tokens(self, client_id: str) -> Sequence[PortalToken]:
        """A client's portal tokens, for staff (viewers included: they read everything)."""
        if self.principal.client_id is not None:
            raise NotAllowed("portal tokens are listed for staff only")
        self._visible(client_id)
        return await self._uc.access.portal_tokens(client_id)

    async def create_portal_token(self, client_id: str, name: str) -> IssuedPortalToken:
        self._require_write()
        return await self._uc.access.create_portal_token(client_id, name)

    async def acknowledge_alert(self, alert_id: str) -> Alert:
        self._require_write()
        return await self._uc.alerts.acknowledge(alert_id, self.principal.name)

    async def create_webhook(self, new: NewWebhook) -> IssuedWebhook:
        self._require_write()
        return await self._uc.webhooks.create(new)

    async def delete_webhook(self, webhook_id: str) -> Webhook:
        """Disables it (its delivery history stays); pending deliveries are cancelled."""
        self._require_write()
        return await self._uc.webhooks.disable(webhook_id)

    async def revoke_staff_token(self, token_id: str) -> StaffToken:
        """Takes effect on the token's next request."""
        self._require_owner()
        return await self._uc.access.revoke_staff_token(token_id)

    async def revoke_portal_token(self, token_id: str) -> PortalToken:
        """Takes effect on the token's next request."""
        self._require_write()
        return await self._uc.access.revoke_portal_token(token_id)
