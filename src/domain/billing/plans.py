"""Per-client pricing plans, effective-dated, and the proration of fixed monthly amounts.

| plan              | the client pays for a period          | charge accrued per call |
| percentage_margin | usage cost x (1 + percent/100)        | cost x (1 + percent/100) |
| fixed_fee         | usage cost + the monthly fee          | cost                     |
| fixed_price       | the monthly price, whatever the usage | 0                        |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.billing.money import (
    EXACT,
    MAX_PERCENT_DECIMALS,
    Money,
    bounded_decimal,
    input_decimal,
    round_to_minor,
)
from domain.billing.periods import Period
from domain.errors import ValidationError
from domain.timeutil import exact_seconds, require_aware, to_utc


class PlanKind(StrEnum):
    PERCENTAGE_MARGIN = "percentage_margin"
    FIXED_FEE = "fixed_fee"
    FIXED_PRICE = "fixed_price"


@dataclass(frozen=True, slots=True)
class PercentageMargin:
    percent: Decimal
    kind = PlanKind.PERCENTAGE_MARGIN

    def __post_init__(self) -> None:
        percent = bounded_decimal(self.percent, places=MAX_PERCENT_DECIMALS, what="margin percent")
        object.__setattr__(self, "percent", percent)

    def charge(self, cost: Money) -> Money:
        factor = EXACT.add(Decimal(1), EXACT.divide(self.percent, Decimal(100)))
        return cost.times(factor)

    @property
    def monthly_amount(self) -> Money | None:
        return None


@dataclass(frozen=True, slots=True)
class FixedFee:
    monthly_fee: Money
    kind = PlanKind.FIXED_FEE

    def __post_init__(self) -> None:
        _require_cents(self.monthly_fee, "monthly fee")

    def charge(self, cost: Money) -> Money:
        return cost

    @property
    def monthly_amount(self) -> Money | None:
        return self.monthly_fee


@dataclass(frozen=True, slots=True)
class FixedPrice:
    monthly_price: Money
    kind = PlanKind.FIXED_PRICE

    def __post_init__(self) -> None:
        _require_cents(self.monthly_price, "monthly price")

    def charge(self, cost: Money) -> Money:
        return Money.zero(cost.currency)

    @property
    def monthly_amount(self) -> Money | None:
        return self.monthly_price


PricingPlan = PercentageMargin | FixedFee | FixedPrice


def _require_cents(amount: Money, what: str) -> None:
    input_decimal(amount.amount, what=what)
    if amount.amount < 0:
        raise ValidationError(f"{what} cannot be negative")
    if round_to_minor(amount.amount, amount.currency) != amount.amount:
        raise ValidationError(f"{what} must be a whole number of minor units: {amount}")


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """A client's plan from `effective_from` until the next version's instant."""

    id: str
    client_id: str
    plan: PricingPlan
    effective_from: datetime
    created_at: datetime

    def __post_init__(self) -> None:
        # In UTC, so ordering is by instant even inside a DST fold (same-zone datetimes compare
        # by wall time).
        object.__setattr__(self, "effective_from", to_utc(self.effective_from, "effective_from"))
        object.__setattr__(self, "created_at", to_utc(self.created_at, "created_at"))


@dataclass(frozen=True, slots=True)
class FixedCharge:
    """A fixed monthly amount prorated to the share of a period its plan version was in force."""

    plan_version_id: str
    kind: PlanKind
    start: datetime
    end: datetime
    full_amount: Money
    amount: Money  # rounded once to the minor unit


class PlanTimeline:
    """A client's plan versions in effective order; answers "which plan at this instant"."""

    def __init__(self, versions: Sequence[PlanVersion]) -> None:
        self._versions = sorted(versions, key=lambda v: (v.effective_from, v.created_at))

    @property
    def versions(self) -> list[PlanVersion]:
        return list(self._versions)

    def in_force_at(self, instant: datetime) -> PlanVersion | None:
        require_aware(instant, "instant")
        current = None
        for version in self._versions:
            if version.effective_from > instant:
                break
            current = version
        return current

    def spans(self) -> list[tuple[PlanVersion, datetime | None]]:
        """Each version with the instant it stops (None: still in force)."""
        if not self._versions:
            return []
        ends: list[datetime | None] = [v.effective_from for v in self._versions[1:]]
        return list(zip(self._versions, [*ends, None], strict=True))

    def fixed_charges(self, period: Period) -> list[FixedCharge]:
        """The period's fixed amounts, one per stretch of time a fixed amount was in force.
        Consecutive versions with the same kind and amount (a plan edit that kept the fee) are
        one stretch: the amount was in force throughout, so it is prorated and rounded once and
        a month split that way still bills exactly the full amount."""
        stretches: list[tuple[PlanVersion, Money, datetime, datetime]] = []
        for version, stop in self.spans():
            full = version.plan.monthly_amount
            start = max(version.effective_from, period.start)
            end = period.end if stop is None else min(stop, period.end)
            if full is None or end <= start:
                continue
            if stretches:
                first, amount, began, ended = stretches[-1]
                if ended == start and amount == full and first.plan.kind is version.plan.kind:
                    stretches[-1] = (first, amount, began, end)
                    continue
            stretches.append((version, full, start, end))
        return [_prorate(v, full, start, end, period) for v, full, start, end in stretches]


def _prorate(
    version: PlanVersion, full: Money, start: datetime, end: datetime, period: Period
) -> FixedCharge:
    in_force = exact_seconds(start, end)
    share = EXACT.divide(EXACT.multiply(full.amount, in_force), period.seconds)
    amount = Money(round_to_minor(share, full.currency), full.currency)
    return FixedCharge(version.id, version.plan.kind, start, end, full, amount)
