"""Figures for dashboards: a client's draft for a period as revenue, cost, profit and margin,
and usage over time. Revenue is the draft invoice's (usage charges + prorated fixed amounts),
so a dashboard never disagrees with the invoice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.billing.clients import Client
from domain.billing.exchange import Conversions, MissingRate
from domain.billing.money import EXACT, Money, sum_money
from domain.billing.periods import Period
from domain.invoicing.drafts import PeriodDraft
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageTotals

# Margin is a ratio, not money: shown with 6 decimals (0.123456 = 12.3456 %), half-even.
MARGIN_PLACES = Decimal("0.000001")


def margin(profit: Money, revenue: Money) -> Decimal | None:
    """profit / revenue, or None when there is no revenue to divide by."""
    if revenue.amount == 0:
        return None
    ratio = EXACT.divide(profit.amount, revenue.amount)
    return ratio.quantize(MARGIN_PLACES, rounding=ROUND_HALF_EVEN, context=EXACT)


@dataclass(frozen=True, slots=True)
class ClientFigures:
    client: Client
    draft: PeriodDraft

    @property
    def margin(self) -> Decimal | None:
        return margin(self.draft.profit, self.draft.revenue)


@dataclass(frozen=True, slots=True)
class UnpricedClient:
    """A client whose figures cannot be given: some of its usage (or a fixed amount) is in
    another currency and no exchange rate is in force for it (docs/currencies.md). It is
    listed apart with the missing rate rather than shown as 0 or taken out of the figures."""

    client: Client
    missing: MissingRate
    requests: int  # its calls of the month: a count needs no rate

    @property
    def reason(self) -> str:
        return str(self.missing)


@dataclass(frozen=True, slots=True)
class Overview:
    """Every visible client's figures for a period, and the totals when they are complete and
    share one currency. The money totals are None when the clients bill in different
    currencies (never added across them) and when a client is unpriced (a total without it
    would be wrong, silently); `requests` counts every client's calls, unpriced ones too."""

    period: Period
    rows: tuple[ClientFigures, ...]
    unpriced: tuple[UnpricedClient, ...] = ()

    @property
    def currency(self) -> str | None:
        """The one currency every visible client bills in (unpriced ones included)."""
        currencies = {row.draft.currency for row in self.rows}
        currencies |= {u.client.currency for u in self.unpriced}
        return currencies.pop() if len(currencies) == 1 else None

    @property
    def complete(self) -> bool:
        """Every client has its figures: the money totals may be added up."""
        return not self.unpriced

    @property
    def requests(self) -> int:
        return sum(row.draft.requests for row in self.rows) + sum(u.requests for u in self.unpriced)

    def _total(self, amounts: Sequence[Money]) -> Money | None:
        currency = self.currency
        if currency is None or not self.complete:
            return None
        return sum_money(list(amounts), currency)

    @property
    def cost(self) -> Money | None:
        return self._total([row.draft.usage_cost for row in self.rows])

    @property
    def revenue(self) -> Money | None:
        return self._total([row.draft.revenue for row in self.rows])

    @property
    def profit(self) -> Money | None:
        return self._total([row.draft.profit for row in self.rows])

    @property
    def margin(self) -> Decimal | None:
        profit, revenue = self.profit, self.revenue
        return None if profit is None or revenue is None else margin(profit, revenue)


class Bucket(StrEnum):
    HOUR = "hour"
    DAY = "day"  # a calendar day in the agency's time zone


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    start: datetime
    requests: int
    tokens: TokenUsage
    cost: Money
    charge: Money


def series(hours: Iterable[UsageTotals], bucket: Bucket, zone: ZoneInfo) -> list[SeriesPoint]:
    """Hourly totals (UTC hours from the store) as a series of hours or local days, oldest
    first; a bucket with no usage is absent."""
    points: dict[datetime, SeriesPoint] = {}
    for row in hours:
        assert row.hour is not None, "series needs totals grouped by hour"
        local = row.hour.astimezone(zone)
        if bucket is Bucket.DAY:
            start = datetime(local.year, local.month, local.day, tzinfo=zone)
        else:
            start = local
        point = points.get(start)
        if point is None:
            points[start] = SeriesPoint(start, row.requests, row.tokens, row.cost, row.charge)
        else:
            points[start] = SeriesPoint(
                start,
                point.requests + row.requests,
                point.tokens + row.tokens,
                point.cost + row.cost,
                point.charge + row.charge,
            )
    return [points[key] for key in sorted(points)]


def in_currency(
    hours: Iterable[UsageTotals], conversions: Conversions, zone: ZoneInfo
) -> list[UsageTotals]:
    """Hourly totals in the conversions' currency: an hour priced in another one converts at
    the rate in force on its day (agency time zone), as its calls' charges do on the invoice
    (MissingRate without one). Already in that currency: as they are."""
    converted = []
    for row in hours:
        assert row.hour is not None, "conversion needs totals grouped by hour"
        day = row.hour.astimezone(zone).date()
        cost = conversions.convert(row.cost.amount, row.cost.currency, day)
        charge = conversions.convert(row.charge.amount, row.charge.currency, day)
        target = conversions.currency
        converted.append(replace(row, cost=Money(cost, target), charge=Money(charge, target)))
    return converted
