"""Output types. Money is always `Money { amount: Decimal!, currency: String! }`; provider
cost, profit and margin carry the CanReadCosts permission (nullable, so a refused field does
not take its siblings down with it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, TypeVar

import strawberry

from api.graphql.alerting import Alert, alerts_of
from api.graphql.context import Info
from api.graphql.errors import public, visible
from api.graphql.fields import field
from api.graphql.model_routes import model_routes
from api.graphql.permissions import CanReadCosts, IsStaff
from domain import access, budgets, catalog, clients, keys, reports
from domain import pricing as plans
from domain.access import NotAllowed
from domain.billing import PeriodDraft
from domain.money import Money as DomainMoney
from domain.tokens import TokenUsage
from domain.usage import UsageRecord, UsageTotals

R = TypeVar("R")
Role = strawberry.enum(access.Role, name="Role")
ClientStatus = strawberry.enum(clients.ClientStatus, name="ClientStatus")
ModelKind = strawberry.enum(catalog.ModelKind, name="ModelKind")
BudgetMode = strawberry.enum(budgets.BudgetMode, name="BudgetMode")
BudgetBasis = strawberry.enum(budgets.BudgetBasis, name="BudgetBasis")


@strawberry.enum
class Bucket(Enum):
    HOUR = "hour"
    DAY = "day"


def costs(resolver: Callable[..., R]) -> R:
    """A field only staff may read (provider cost, profit, margin); refused for a portal."""
    return strawberry.field(resolver, permission_classes=[CanReadCosts])  # type: ignore[return-value]


@strawberry.type
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def of(cls, money: DomainMoney) -> Money:
        return cls(amount=money.amount, currency=money.currency)


@strawberry.type(name="PercentageMargin")
class PercentageMarginPlan:
    percent: Decimal


@strawberry.type(name="FixedFee")
class FixedFeePlan:
    monthly_fee: Money


@strawberry.type(name="FixedPrice")
class FixedPricePlan:
    monthly_price: Money


Pricing = Annotated[
    PercentageMarginPlan | FixedFeePlan | FixedPricePlan, strawberry.union("Pricing")
]


def pricing_of(plan: plans.PricingPlan) -> PercentageMarginPlan | FixedFeePlan | FixedPricePlan:
    if isinstance(plan, plans.PercentageMargin):
        return PercentageMarginPlan(percent=plan.percent)
    if isinstance(plan, plans.FixedFee):
        return FixedFeePlan(monthly_fee=Money.of(plan.monthly_fee))
    return FixedPricePlan(monthly_price=Money.of(plan.monthly_price))


@strawberry.type
class PlanVersion:
    id: strawberry.ID
    effective_from: datetime
    created_at: datetime
    pricing: Pricing

    @classmethod
    def of(cls, version: plans.PlanVersion) -> PlanVersion:
        return cls(
            id=strawberry.ID(version.id),
            effective_from=version.effective_from,
            created_at=version.created_at,
            pricing=pricing_of(version.plan),
        )


@strawberry.type(description="A budget and where it stands in the current billing period.")
class Budget:
    used_percent: Decimal | None = strawberry.field(
        description="spent / limit x 100, exact. Null for a client-portal token when the budget "
        "is measured in provider cost: a percentage of the agency's cost is one of its figures."
    )
    mode: BudgetMode  # type: ignore[valid-type]
    basis: BudgetBasis  # type: ignore[valid-type]
    basis_is_default: bool = strawberry.field(description="The basis follows the plan in force.")
    thresholds: list[int]
    period: str = strawberry.field(description='The billing period, "YYYY-MM".')
    # A budget on the provider-cost basis is measured in the agency's cost: a client's portal
    # sees its mode, basis and period, is refused its amounts and gets no percentage of it
    # (with the charges it sees, a percentage would give the limit, and so the cost, away).
    figures: strawberry.Private[budgets.BudgetStatus | None]

    def _amount(self, pick: Callable[[budgets.BudgetStatus], Decimal]) -> Money:
        if self.figures is None:
            raise public(NotAllowed("a budget on provider cost shows its amounts to staff only"))
        return Money(amount=pick(self.figures), currency=self.figures.budget.limit.currency)

    @field()
    def limit(self) -> Money:
        return self._amount(lambda status: status.budget.limit.amount)

    @field(description="Settled spend this period, on `basis`.")
    def spent(self) -> Money:
        return self._amount(lambda status: status.spent)

    @field(description="Held for calls in flight.")
    def reserved(self) -> Money:
        return self._amount(lambda status: status.reserved)

    @field(description="limit - spent - reserved, at least 0.")
    def remaining(self) -> Money:
        return self._amount(lambda status: status.remaining)

    @classmethod
    def of(
        cls, status: budgets.BudgetStatus, basis: budgets.BudgetBasis, *, show_amounts: bool
    ) -> Budget:
        budget = status.budget
        return cls(
            used_percent=status.used_percent if show_amounts else None,
            mode=budget.mode,
            basis=basis,
            basis_is_default=budget.basis is None,
            thresholds=list(budget.thresholds),
            period=status.period.label,
            figures=status if show_amounts else None,
        )


async def budget_of(info: Info, status: budgets.BudgetStatus | None) -> Budget | None:
    if status is None:
        return None
    versions = await info.context.loaders.plans.load(status.budget.client_id)
    plan = plans.PlanTimeline(versions).in_force_at(info.context.now)
    basis = status.budget.basis_under(plan)
    shown = basis is not budgets.BudgetBasis.COST or info.context.principal.can_read_costs
    return Budget.of(status, basis, show_amounts=shown)


@strawberry.type
class ApiKey:
    id: strawberry.ID
    client_id: strawberry.ID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    allowed_models: list[str]
    rpm_limit: int | None
    tpm_limit: int | None

    @classmethod
    def of(cls, key: keys.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(key.id),
            client_id=strawberry.ID(key.client_id),
            name=key.name,
            prefix=key.prefix,
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            allowed_models=list(key.allowed_models),
            rpm_limit=key.rpm_limit,
            tpm_limit=key.tpm_limit,
            domain_key=key,
        )

    domain_key: strawberry.Private[keys.ApiKey]

    @field(description="This key's own budget (null when it has none).")
    async def budget(self, info: Info) -> Budget | None:
        key = self.domain_key
        status = await info.context.loaders.budgets.load((key.client_id, key.id))
        return await budget_of(info, status)


@strawberry.interface
class TokenCounts:
    """Token totals in product.md's convention: input includes cached and cache-write tokens,
    output includes reasoning tokens."""

    requests: int
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int
    reasoning_tokens: int


def _counts(requests: int, tokens: TokenUsage) -> dict[str, int]:
    return {
        "requests": requests,
        "input_tokens": tokens.input_tokens,
        "cached_input_tokens": tokens.cached_input_tokens,
        "cache_write_tokens": tokens.cache_write_tokens,
        "output_tokens": tokens.output_tokens,
        "reasoning_tokens": tokens.reasoning_tokens,
    }


@strawberry.type
class ModelUsage(TokenCounts):
    """One model's usage in a period; its revenue is its usage charge (fixed amounts belong
    to no model)."""

    model: str
    charge: Money
    revenue: Money
    cost_amount: strawberry.Private[DomainMoney]
    charge_amount: strawberry.Private[DomainMoney]

    @costs
    def cost(self) -> Money | None:
        return Money.of(self.cost_amount)

    @costs
    def profit(self) -> Money | None:
        return Money.of(self.charge_amount - self.cost_amount)

    @classmethod
    def of(cls, row: UsageTotals) -> ModelUsage:
        return cls(
            model=row.model_id or "",
            charge=Money.of(row.charge),
            revenue=Money.of(row.charge),
            cost_amount=row.cost,
            charge_amount=row.charge,
            **_counts(row.requests, row.tokens),
        )


@strawberry.type
class UsagePoint(TokenCounts):
    start: datetime
    charge: Money
    cost_amount: strawberry.Private[DomainMoney]

    @costs
    def cost(self) -> Money | None:
        return Money.of(self.cost_amount)

    @classmethod
    def of(cls, point: reports.SeriesPoint) -> UsagePoint:
        return cls(
            start=point.start,
            charge=Money.of(point.charge),
            cost_amount=point.cost,
            **_counts(point.requests, point.tokens),
        )


@strawberry.type
class EstimatedCall:
    """A call billed on an estimate (the provider reported no usage: a stream cut short, or a
    process that died mid-call), to reconcile against the provider's console."""

    request_id: str
    attempt: int
    started_at: datetime
    model: str
    status: str
    input_tokens: int
    output_tokens: int
    charge: Money
    cost_amount: strawberry.Private[DomainMoney]

    @costs
    def cost(self) -> Money | None:
        return Money.of(self.cost_amount)

    @classmethod
    def of(cls, record: UsageRecord) -> EstimatedCall:
        return cls(
            request_id=record.request_id,
            attempt=record.attempt,
            started_at=record.started_at,
            model=record.model_id,
            status=record.status.value,
            input_tokens=record.usage.input_tokens,
            output_tokens=record.usage.output_tokens,
            charge=Money.of(record.charge),
            cost_amount=record.cost,
        )


@strawberry.type
class ClientUsage(TokenCounts):
    """A client's usage and figures for a month: the draft invoice so far."""

    period: str
    charge: Money
    fixed_charges: Money
    revenue: Money
    client_id: strawberry.Private[str]
    draft: strawberry.Private[PeriodDraft]

    @costs
    def cost(self) -> Money | None:
        return Money.of(self.draft.usage_cost)

    @costs
    def profit(self) -> Money | None:
        return Money.of(self.draft.profit)

    @costs
    def margin(self) -> Decimal | None:
        return reports.margin(self.draft.profit, self.draft.revenue)

    @strawberry.field
    async def by_model(self, info: Info) -> list[ModelUsage]:
        rows = await visible(info.context.management.by_model(self.client_id, self.period))
        return [ModelUsage.of(row) for row in rows]

    @strawberry.field
    async def series(self, info: Info, bucket: Bucket) -> list[UsagePoint]:
        points = await visible(
            info.context.management.series(
                self.client_id, reports.Bucket(bucket.value), self.period
            )
        )
        return [UsagePoint.of(point) for point in points]

    @field(
        description="The month's calls billed on an estimate, newest first (at most `first`, "
        "1-1000): streams cut short and calls of a process that died. Staff only.",
        permissions=[IsStaff],
    )
    async def estimated_calls(self, info: Info, first: int = 100) -> list[EstimatedCall]:
        management = info.context.management
        found = await visible(management.estimated_calls(self.client_id, self.period, first))
        return [EstimatedCall.of(record) for record in found]

    @classmethod
    def of(cls, client_id: str, draft: PeriodDraft) -> ClientUsage:
        return cls(
            period=draft.period.label,
            charge=Money.of(draft.usage_charge),
            fixed_charges=Money.of(draft.fixed_total),
            revenue=Money.of(draft.revenue),
            client_id=client_id,
            draft=draft,
            **_counts(draft.requests, draft.tokens),
        )


@strawberry.type
class Client:
    id: strawberry.ID
    name: str
    status: ClientStatus  # type: ignore[valid-type]
    currency: str
    billing_email: str | None
    tax_rate: Decimal
    created_at: datetime

    @strawberry.field
    async def api_keys(self, info: Info) -> list[ApiKey]:
        found = await visible(info.context.loaders.keys.load(self.id))
        return [ApiKey.of(key) for key in found]

    @field(description="The plan in force now (null before the first version).")
    async def pricing(self, info: Info) -> Pricing | None:
        versions = await info.context.loaders.plans.load(self.id)
        current = plans.PlanTimeline(versions).in_force_at(info.context.now)
        return None if current is None else pricing_of(current.plan)

    @strawberry.field
    async def pricing_history(self, info: Info) -> list[PlanVersion]:
        versions = await info.context.loaders.plans.load(self.id)
        return [PlanVersion.of(v) for v in versions]

    @field(description="The client's budget (null when it has none).")
    async def budget(self, info: Info) -> Budget | None:
        status = await info.context.loaders.budgets.load((self.id, None))
        return await budget_of(info, status)

    @field(description="The client's alerts, newest first.")
    async def alerts(
        self, info: Info, unacknowledged_only: bool = False, first: int = 50
    ) -> list[Alert]:
        return await alerts_of(info, str(self.id), unacknowledged_only, first)

    @field(
        description="The client's portal tokens (prefixes only), oldest first; staff only.",
        permissions=[IsStaff],
    )
    async def portal_tokens(self, info: Info) -> list[PortalToken]:
        tokens = await visible(info.context.management.portal_tokens(self.id))
        return [PortalToken.of(token) for token in tokens]

    @field(description='Usage and figures for a month "YYYY-MM" (default: now).')
    async def usage(self, info: Info, period: str | None = None) -> ClientUsage:
        draft = await visible(info.context.loaders.drafts.load((self.id, period)))
        return ClientUsage.of(self.id, draft)

    @classmethod
    def of(cls, client: clients.Client) -> Client:
        return cls(
            id=strawberry.ID(client.id),
            name=client.name,
            status=client.status,
            currency=client.currency,
            billing_email=client.billing_email,
            tax_rate=client.tax_rate,
            created_at=client.created_at,
        )


@strawberry.type
class ClientFigures:
    """One client's row in the overview."""

    client: Client
    requests: int
    revenue: Money
    draft: strawberry.Private[PeriodDraft]

    @costs
    def cost(self) -> Money | None:
        return Money.of(self.draft.usage_cost)

    @costs
    def profit(self) -> Money | None:
        return Money.of(self.draft.profit)

    @costs
    def margin(self) -> Decimal | None:
        return reports.margin(self.draft.profit, self.draft.revenue)

    @classmethod
    def of(cls, row: reports.ClientFigures) -> ClientFigures:
        return cls(
            client=Client.of(row.client),
            requests=row.draft.requests,
            revenue=Money.of(row.draft.revenue),
            draft=row.draft,
        )


@strawberry.type
class Overview:
    """Totals for a month. Amounts are null when the clients bill in several currencies
    (they are never added across currencies); the rows always have them."""

    period: str
    requests: int
    currency: str | None
    rows: list[ClientFigures]
    overview: strawberry.Private[reports.Overview]

    @strawberry.field
    def revenue(self) -> Money | None:
        revenue = self.overview.revenue
        return None if revenue is None else Money.of(revenue)

    @costs
    def cost(self) -> Money | None:
        cost = self.overview.cost
        return None if cost is None else Money.of(cost)

    @costs
    def profit(self) -> Money | None:
        profit = self.overview.profit
        return None if profit is None else Money.of(profit)

    @costs
    def margin(self) -> Decimal | None:
        return self.overview.margin

    @field(
        description="The rows' usage summed per hour or day (spend over time; one read for "
        "all clients); null when they bill in several currencies."
    )
    async def series(self, info: Info, bucket: Bucket) -> list[UsagePoint] | None:
        points = await visible(
            info.context.management.total_series(reports.Bucket(bucket.value), self.period)
        )
        return None if points is None else [UsagePoint.of(point) for point in points]

    @classmethod
    def of(cls, overview: reports.Overview) -> Overview:
        return cls(
            period=overview.period.label,
            requests=overview.requests,
            currency=overview.currency,
            rows=[ClientFigures.of(row) for row in overview.rows],
            overview=overview,
        )


@strawberry.type
class ModelPrice:
    """A provider's price per million tokens from `effectiveFrom` (null: billed like the
    parent class)."""

    id: strawberry.ID
    effective_from: datetime
    currency: str
    input_per_million: Decimal
    output_per_million: Decimal
    cached_input_per_million: Decimal | None
    cache_write_per_million: Decimal | None
    reasoning_per_million: Decimal | None

    @classmethod
    def of(cls, price: catalog.PriceVersion) -> ModelPrice:
        return cls(
            id=strawberry.ID(price.id),
            effective_from=price.effective_from,
            currency=price.currency,
            input_per_million=price.input,
            output_per_million=price.output,
            cached_input_per_million=price.cached_input,
            cache_write_per_million=price.cache_write,
            reasoning_per_million=price.reasoning,
        )


@strawberry.type
class Model:
    id: strawberry.ID
    provider: str
    upstream_name: str
    kind: ModelKind  # type: ignore[valid-type]
    max_output_tokens: int
    context_window: int
    fallbacks: list[str]

    @field(description="The gateway routes it is called through (natively or translated).")
    def routes(self) -> list[str]:
        return model_routes(self.kind)

    @field(permissions=[CanReadCosts])
    async def prices(self, info: Info) -> list[ModelPrice] | None:
        history = await visible(info.context.management.prices(self.id))
        return [ModelPrice.of(v) for v in history.versions]

    @classmethod
    def of(cls, model: catalog.Model) -> Model:
        return cls(
            id=strawberry.ID(model.id),
            provider=model.provider,
            upstream_name=model.upstream_name,
            kind=model.kind,
            max_output_tokens=model.max_output_tokens,
            context_window=model.context_window,
            fallbacks=list(model.fallbacks),
        )


@strawberry.type
class StaffToken:
    id: strawberry.ID
    name: str
    role: Role  # type: ignore[valid-type]
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    email: str | None

    @classmethod
    def of(cls, token: access.StaffToken) -> StaffToken:
        return cls(
            id=strawberry.ID(token.id),
            name=token.name,
            email=token.email,
            role=token.role,
            prefix=token.prefix,
            created_at=token.created_at,
            revoked_at=token.revoked_at,
        )


@strawberry.type
class PortalToken:
    id: strawberry.ID
    client_id: strawberry.ID
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: access.PortalToken) -> PortalToken:
        return cls(
            id=strawberry.ID(token.id),
            client_id=strawberry.ID(token.client_id),
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            revoked_at=token.revoked_at,
        )


@strawberry.enum
class PrincipalKind(Enum):
    STAFF = "staff"
    PORTAL = "portal"


@strawberry.type
class Me:
    """Who this token is: staff (with a role) or a client portal (with its client)."""

    kind: PrincipalKind
    name: str
    role: Role | None  # type: ignore[valid-type]
    client_id: strawberry.ID | None

    @classmethod
    def of(cls, principal: access.Principal) -> Me:
        client_id = principal.client_id
        return cls(
            kind=PrincipalKind.STAFF if client_id is None else PrincipalKind.PORTAL,
            name=principal.name,
            role=principal.role,
            client_id=None if client_id is None else strawberry.ID(client_id),
        )


def clients_of(found: Sequence[clients.Client]) -> list[Client]:
    return [Client.of(c) for c in found]
