"""Usage and figures: a client's month (by model, over time, the calls billed on an estimate)
and the agency's overview of every client."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.errors import visible
from api.graphql.exchange_types import ReportingTotals
from api.graphql.fields import field
from api.graphql.permissions import IsStaff
from api.graphql.shared import Money, TokenCounts, costs, counts, described
from domain import reports
from domain.billing.money import Money as DomainMoney
from domain.invoicing.drafts import PeriodDraft
from domain.metering.usage import UsageRecord, UsageTotals

if TYPE_CHECKING:
    from api.graphql.clients import Client


@strawberry.enum
class Bucket(Enum):
    HOUR = "hour"
    DAY = "day"


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
            **counts(row.requests, row.tokens),
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
            **counts(point.requests, point.tokens),
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
            **counts(draft.requests, draft.tokens),
        )


@strawberry.type
class ClientFigures:
    """One client's row in the overview."""

    client: Annotated[Client, strawberry.lazy("api.graphql.clients")]
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
        from api.graphql.clients import Client  # clients.py imports this module

        return cls(
            client=Client.of(row.client),
            requests=row.draft.requests,
            revenue=Money.of(row.draft.revenue),
            draft=row.draft,
        )


@strawberry.type
class UnpricedClient:
    """A client of the overview without figures: some of its usage (or a fixed amount) is in
    another currency and no exchange rate is in force for it (docs/currencies.md). Set the
    rate and it returns among the rows."""

    client: Annotated[Client, strawberry.lazy("api.graphql.clients")]
    reason: str = strawberry.field(
        description="The missing rate, as closing and draftInvoice say it (pair and day)."
    )
    base: str = strawberry.field(description="The currency to convert from (the price's).")
    quote: str = strawberry.field(description="The currency to convert into (the client's).")
    day: date = strawberry.field(
        description="The day (agency time zone) needing the rate: the first one found."
    )
    requests: int = strawberry.field(description="Its calls of the month (a count needs no rate).")

    @classmethod
    def of(cls, unpriced: reports.UnpricedClient) -> UnpricedClient:
        from api.graphql.clients import Client  # clients.py imports this module

        missing = unpriced.missing
        return cls(
            client=Client.of(unpriced.client),
            reason=unpriced.reason,
            base=missing.base,
            quote=missing.quote,
            day=missing.on,
            requests=unpriced.requests,
        )


@strawberry.type
class Overview:
    """Totals for a month. Amounts are null when the clients bill in several currencies
    (they are never added across currencies) and when a client is unpriced (listed in
    `unpriced`: a total without it would be wrong); the rows always have them."""

    period: str
    requests: int = strawberry.field(description="Every visible client's calls, unpriced too.")
    currency: str | None
    rows: list[ClientFigures]
    unpriced: list[UnpricedClient] = strawberry.field(
        description="Clients whose figures need an exchange rate that is missing, each with "
        "the rate it needs; not in `rows`, and the money totals are null while any is here."
    )
    overview: strawberry.Private[reports.Overview]

    @described("The rows' revenue summed; null across currencies or with a client unpriced.")
    def revenue(self) -> Money | None:
        revenue = self.overview.revenue
        return None if revenue is None else Money.of(revenue)

    @described("The rows' provider cost summed; null as revenue is.", costs_only=True)
    def cost(self) -> Money | None:
        cost = self.overview.cost
        return None if cost is None else Money.of(cost)

    @described("Revenue - cost; null as revenue is.", costs_only=True)
    def profit(self) -> Money | None:
        profit = self.overview.profit
        return None if profit is None else Money.of(profit)

    @described("Profit / revenue; null as revenue is, or without revenue.", costs_only=True)
    def margin(self) -> Decimal | None:
        return self.overview.margin

    @field(
        permissions=[IsStaff],
        description="The totals in the agency's reporting currency, with the exchange rates "
        "used (docs/currencies.md); owners and admins (who see costs) only.",
    )
    async def in_reporting_currency(self, info: Info) -> ReportingTotals:
        reporting = await visible(info.context.management.reporting(self.overview))
        return ReportingTotals.of(reporting)

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
            unpriced=[UnpricedClient.of(u) for u in overview.unpriced],
            overview=overview,
        )


@field(description='Figures for a month "YYYY-MM" (default: the current one).')
async def overview(info: Info, period: str | None = None) -> Overview:
    return Overview.of(await visible(info.context.management.overview(period)))
