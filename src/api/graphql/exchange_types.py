"""The GraphQL types of exchange rates and of the overview in the reporting currency
(docs/currencies.md), apart from the rates module so invoices and usage can use them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from api.graphql.shared import Money
from domain.billing import exchange as domain
from domain.reporting import Reporting


@strawberry.type
class ExchangeRate:
    base: str
    quote: str
    rate: Decimal = strawberry.field(description="1 base = rate quote (at most 12 decimals).")
    effective_on: date = strawberry.field(
        description="In force from this day (agency time zone) until the pair's next rate."
    )
    source: str

    @classmethod
    def of(cls, rate: domain.ExchangeRate) -> ExchangeRate:
        return cls(
            base=rate.base,
            quote=rate.quote,
            rate=rate.rate,
            effective_on=rate.effective_on,
            source=rate.source,
        )


@strawberry.type
class ReportingTotals:
    """An overview's totals in the agency's reporting currency (BIZGRAPH_REPORTING_CURRENCY):
    each client's figures converted at the rate in force on the period's first day, exact;
    null figures with `problem` when a rate is missing (never a guess)."""

    currency: str
    revenue: Money | None
    cost: Money | None
    profit: Money | None
    margin: Decimal | None
    rates: list[ExchangeRate]
    problem: str | None = strawberry.field(description="Why there are no figures.")

    @classmethod
    def of(cls, reporting: Reporting) -> ReportingTotals:
        totals = reporting.totals
        if totals is None:
            return cls(
                currency=reporting.currency,
                revenue=None,
                cost=None,
                profit=None,
                margin=None,
                rates=[],
                problem=reporting.problem,
            )
        return cls(
            currency=totals.currency,
            revenue=Money.of(totals.revenue),
            cost=Money.of(totals.cost),
            profit=Money.of(totals.profit),
            margin=totals.margin,
            rates=[ExchangeRate.of(rate) for rate in totals.rates],
            problem=None,
        )
