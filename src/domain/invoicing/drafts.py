"""A client's draft for a billing period: what it owes so far, by product.md's rules.

Usage charges and costs stay exact; the fixed amounts are the prorated, once-rounded ones.
Revenue = usage charges + fixed amounts; profit = revenue - provider cost (it can be negative).
Rounding the usage into invoice lines happens at invoicing, not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.billing.money import Money, sum_money
from domain.billing.periods import Period
from domain.billing.plans import FixedCharge, PlanTimeline
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageRecord, UsageTotals


@dataclass(frozen=True, slots=True)
class PeriodDraft:
    period: Period
    currency: str
    requests: int
    tokens: TokenUsage
    usage_cost: Money  # exact, what the providers charge the agency
    usage_charge: Money  # exact, what the client owes for usage
    fixed: tuple[FixedCharge, ...]
    # A closed period's revenue: the sum of its invoices' subtotals (product.md).
    invoiced: Money | None = None

    @property
    def fixed_total(self) -> Money:
        return sum_money([f.amount for f in self.fixed], self.currency)

    @property
    def revenue(self) -> Money:
        if self.invoiced is not None:
            return self.invoiced
        return self.usage_charge + self.fixed_total

    @property
    def profit(self) -> Money:
        return self.revenue - self.usage_cost


def draft_period(
    period: Period, timeline: PlanTimeline, records: Iterable[UsageRecord], currency: str
) -> PeriodDraft:
    """The draft from the usage records that started in the period and the plan timeline.
    Every amount must be in `currency` (CurrencyMismatch otherwise)."""
    mine = [r for r in records if period.contains(r.started_at)]
    tokens = TokenUsage()
    for record in mine:
        tokens = tokens + record.usage
    return PeriodDraft(
        period=period,
        currency=currency,
        requests=len(mine),
        tokens=tokens,
        usage_cost=sum_money([r.cost for r in mine], currency),
        usage_charge=sum_money([r.charge for r in mine], currency),
        fixed=tuple(timeline.fixed_charges(period)),
    )


def draft_from_totals(
    period: Period, timeline: PlanTimeline, totals: Iterable[UsageTotals], currency: str
) -> PeriodDraft:
    """The same draft as `draft_period`, from usage the store already aggregated for this
    client and period (any grouping). Every amount must be in `currency`."""
    rows = list(totals)
    tokens = TokenUsage()
    for row in rows:
        tokens = tokens + row.tokens
    return PeriodDraft(
        period=period,
        currency=currency,
        requests=sum(row.requests for row in rows),
        tokens=tokens,
        usage_cost=sum_money([row.cost for row in rows], currency),
        usage_charge=sum_money([row.charge for row in rows], currency),
        fixed=tuple(timeline.fixed_charges(period)),
    )
