"""Usage and fixed amounts converted into a client's currency (docs/currencies.md).

Usage records stay in the currency of the price that metered them. A record whose charge is in
another currency than the invoice's converts at the rate in force on the day (agency time zone)
its call started; the line is the exact sum of the converted charges, rounded once like any
usage line. A fixed amount in another currency converts at the period's first day's rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.billing.exchange import Conversions
from domain.billing.money import EXACT, Money, round_to_minor
from domain.billing.periods import Period, period_containing
from domain.billing.plans import FixedCharge, PlanTimeline
from domain.invoicing.drafts import PeriodDraft
from domain.invoicing.invoices import UsageGroup
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageRecord


def _add(total: Money | None, amount: Money) -> Money:
    return amount if total is None else total + amount


def convert_records(
    records: Iterable[UsageRecord], zone: ZoneInfo, conversions: Conversions
) -> list[UsageGroup]:
    """Records in another currency, summed per (month they started in, model, own key) after
    converting each at its day's rate (MissingRate when a day has none)."""
    currency = conversions.currency
    groups: dict[tuple[str, str, bool], UsageGroup] = {}
    for record in records:
        local = record.started_at.astimezone(zone)
        label = period_containing(record.started_at, zone).label
        rate = conversions.factor(record.charge.currency, local.date())
        charge = record.charge.amount if rate is None else rate.convert(record.charge.amount)
        listed = None
        if record.list_cost is not None:
            amount = record.list_cost.amount
            listed = Money(amount if rate is None else rate.convert(amount), currency)
        key = (label, record.model_id, record.byok)
        seen = groups.get(key)
        if seen is None:
            groups[key] = UsageGroup(
                label,
                record.model_id,
                1,
                record.usage,
                Money(charge, currency),
                record.byok,
                listed,
                record.charge,
            )
            continue
        groups[key] = replace(
            seen,
            requests=seen.requests + 1,
            tokens=seen.tokens + record.usage,
            charge=Money(EXACT.add(seen.charge.amount, charge), currency),
            list_cost=seen.list_cost if listed is None else _add(seen.list_cost, listed),
            source=_add(seen.source, record.charge),
        )
    return list(groups.values())


def foreign(records: Iterable[UsageRecord], currency: str) -> list[UsageRecord]:
    return [record for record in records if record.charge.currency != currency]


def needs_conversion(groups: Sequence[UsageGroup], currency: str) -> bool:
    return any(group.charge.currency != currency for group in groups)


def convert_fixed(
    charges: Iterable[FixedCharge], period: Period, conversions: Conversions
) -> list[FixedCharge]:
    """Fixed amounts in another currency (a plan set before the client's currency changed)
    at the rate of the period's first day, rounded once to the client's minor unit."""
    first_day = period.start.date()
    currency = conversions.currency
    result = []
    for charge in charges:
        rate = conversions.factor(charge.amount.currency, first_day)
        if rate is None:
            result.append(charge)
            continue
        exact: Decimal = rate.convert(charge.amount.amount)
        converted = Money(round_to_minor(exact, currency), currency)
        full = Money(rate.convert(charge.full_amount.amount), currency).rounded()
        result.append(replace(charge, amount=converted, full_amount=full))
    return result


def converted_draft(
    period: Period,
    timeline: PlanTimeline,
    records: Iterable[UsageRecord],
    conversions: Conversions,
    zone: ZoneInfo,
) -> PeriodDraft:
    """A client's draft in its currency from records in any: each record's cost and charge
    at its day's rate (MissingRate without one), the fixed amounts as on the invoice."""
    currency = conversions.currency
    mine = [r for r in records if period.contains(r.started_at)]
    tokens = TokenUsage()
    cost, charge = Decimal(0), Decimal(0)
    for record in mine:
        day = record.started_at.astimezone(zone).date()
        tokens = tokens + record.usage
        cost = EXACT.add(cost, conversions.convert(record.cost.amount, record.cost.currency, day))
        charge = EXACT.add(
            charge, conversions.convert(record.charge.amount, record.charge.currency, day)
        )
    return PeriodDraft(
        period=period,
        currency=currency,
        requests=len(mine),
        tokens=tokens,
        usage_cost=Money(cost, currency),
        usage_charge=Money(charge, currency),
        fixed=tuple(convert_fixed(timeline.fixed_charges(period), period, conversions)),
    )
