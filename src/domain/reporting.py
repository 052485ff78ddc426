"""The overview in the agency's reporting currency (docs/currencies.md): each client's figures,
in its own currency, converted at the rate in force on the period's first day (agency time
zone), exact; the rates used are stated. A missing rate leaves the totals out with a message,
never a guess: that rate, or the clients whose own figures lack one (a total without them would
be wrong, silently)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.billing.exchange import Conversions, ExchangeRate, MissingRate, RateBook
from domain.billing.money import EXACT, Money
from domain.reports import Overview, margin


@dataclass(frozen=True, slots=True)
class ReportingTotals:
    currency: str
    revenue: Money
    cost: Money
    profit: Money
    rates: tuple[ExchangeRate, ...]  # client currency -> reporting currency, one per pair

    @property
    def margin(self) -> Decimal | None:
        return margin(self.profit, self.revenue)


@dataclass(frozen=True, slots=True)
class Reporting:
    currency: str
    totals: ReportingTotals | None
    problem: str | None = None  # why there are no totals (a missing rate)


def unpriced_problem(overview: Overview) -> str | None:
    """Why the totals cannot be given: each unpriced client with its missing rate."""
    if overview.complete:
        return None
    named = "; ".join(f"{u.client.name}: {u.reason}" for u in overview.unpriced)
    return f"no totals while a client has no figures ({named})"


def in_reporting_currency(overview: Overview, book: RateBook, currency: str) -> Reporting:
    problem = unpriced_problem(overview)
    if problem is not None:
        return Reporting(currency, None, problem)
    conversions = Conversions(book, currency)
    day = overview.period.start.date()
    revenue, cost, profit = Decimal(0), Decimal(0), Decimal(0)
    try:
        for row in overview.rows:
            draft = row.draft
            revenue = EXACT.add(
                revenue, conversions.convert(draft.revenue.amount, draft.currency, day)
            )
            cost = EXACT.add(
                cost, conversions.convert(draft.usage_cost.amount, draft.currency, day)
            )
            profit = EXACT.add(
                profit, conversions.convert(draft.profit.amount, draft.currency, day)
            )
    except MissingRate as missing:
        return Reporting(currency, None, str(missing))
    totals = ReportingTotals(
        currency,
        Money(revenue, currency),
        Money(cost, currency),
        Money(profit, currency),
        conversions.applied(),
    )
    return Reporting(currency, totals)
