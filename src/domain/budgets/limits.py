"""Budgets: a spending limit per client (and optionally per key) and billing period.

Enforcement is reserve-then-settle (docs/budgets.md): before a call reaches a provider its
maximum possible amount is held on a per-(scope, period) counter `(spent, reserved)`, refused
under a hard limit unless `spent + reserved + hold <= limit`; settling moves the actual amount
into `spent` and releases the hold, in the transaction that writes the usage record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from domain.billing.money import EXACT, Money, exact_sum
from domain.billing.periods import Period
from domain.billing.plans import FixedPrice, PlanVersion
from domain.catalog.models import Model, PriceVersion, max_cost
from domain.errors import ValidationError
from domain.metering.request_bounds import RequestBound
from domain.timeutil import require_aware

DEFAULT_THRESHOLDS = (50, 80, 100)
MAX_THRESHOLD = 1000  # percent; thresholds above 100 make sense for soft budgets
PERCENT_PLACES = Decimal("0.0001")


class BudgetMode(StrEnum):
    HARD = "hard"  # a call that could take spend past the limit is refused
    SOFT = "soft"  # calls pass; alerts fire


class BudgetBasis(StrEnum):
    CHARGE = "charge"  # what the client is charged for usage
    COST = "cost"  # provider cost


@dataclass(frozen=True, slots=True)
class Budget:
    """`basis=None` follows the plan in force (product.md): provider cost for `fixed_price`
    (whose usage charge is zero), the client charge otherwise."""

    client_id: str
    key_id: str | None
    limit: Money
    mode: BudgetMode
    updated_at: datetime
    basis: BudgetBasis | None = None
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    # A prepaid client's wallet (domain/wallets/): limit 0 on a counter whose `spent` is
    # minus the balance, so `spent + reserved + hold <= 0` is "the balance covers the hold".
    wallet: bool = False

    def __post_init__(self) -> None:
        require_aware(self.updated_at, "updated_at")
        if self.limit.amount <= 0 and not (self.wallet and self.limit.amount == 0):
            raise ValidationError("a budget limit must be positive")
        if len(set(self.thresholds)) != len(self.thresholds) or len(self.thresholds) > 10:
            raise ValidationError("thresholds are at most 10 distinct percents")
        if any(not 1 <= t <= MAX_THRESHOLD for t in self.thresholds):
            raise ValidationError(f"thresholds are percents between 1 and {MAX_THRESHOLD}")
        object.__setattr__(self, "thresholds", tuple(sorted(self.thresholds)))

    @property
    def scope(self) -> str:
        if self.wallet:
            return wallet_scope(self.client_id)
        return budget_scope(self.client_id, self.key_id)

    def counter_period(self, period: Period) -> Period:
        """The counter a call's hold and spend go on: the call's billing period, or the one
        everlasting counter of a wallet (a balance does not restart each month)."""
        return WALLET_PERIOD if self.wallet else period

    def basis_under(self, plan: PlanVersion | None) -> BudgetBasis:
        if self.basis is not None:
            return self.basis
        if plan is not None and isinstance(plan.plan, FixedPrice):
            return BudgetBasis.COST
        return BudgetBasis.CHARGE

    def measure(self, cost: Money, charge: Money, plan: PlanVersion | None) -> Decimal:
        """The amount of one call this budget counts."""
        return (cost if self.basis_under(plan) is BudgetBasis.COST else charge).amount

    def crossed(self, before: Decimal, after: Decimal) -> list[int]:
        """Thresholds that spend moving from `before` to `after` reached for the first time."""
        limit = self.limit.amount
        return [t for t in self.thresholds if before < _share(limit, t) <= after]

    def hard_limit(self) -> Decimal | None:
        return self.limit.amount if self.mode is BudgetMode.HARD else None


def budget_scope(client_id: str, key_id: str | None) -> str:
    return f"key:{key_id}" if key_id is not None else f"client:{client_id}"


def wallet_scope(client_id: str) -> str:
    return f"wallet:{client_id}"


# A wallet's one counter: it spans every billing period.
WALLET_PERIOD = Period(
    "wallet", datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)
)


def _share(limit: Decimal, percent: int) -> Decimal:
    return EXACT.divide(EXACT.multiply(limit, Decimal(percent)), Decimal(100))


@dataclass(frozen=True, slots=True)
class Hold:
    """An amount held on one budget's counter for one call."""

    budget: Budget
    period: Period
    amount: Decimal
    basis: BudgetBasis

    @property
    def scope(self) -> str:
        return self.budget.scope


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a hard budget refused: the counter as it stood and the amount asked for."""

    hold: Hold
    spent: Decimal
    reserved: Decimal


@dataclass(frozen=True, slots=True)
class Reservation:
    """What a reservation did: refused (nothing held), or held; either way, the counters it
    opened for a new period with the spend already recorded (from 0 to that spend, so the
    thresholds that spend passed alert too)."""

    refusal: Refusal | None
    opened: tuple[CounterMove, ...] = ()


@dataclass(frozen=True, slots=True)
class LeaseTaken:
    """What topping up a process's lease did: the lease's amount afterwards (what its calls may
    hold in all), refused (nothing added) or not, and the counters it opened (as Reservation)."""

    amount: Decimal
    refusal: Refusal | None
    opened: tuple[CounterMove, ...] = ()


@dataclass(frozen=True, slots=True)
class Spend:
    """Settled spend of one call on one budget's counter."""

    scope: str
    period_start: datetime
    amount: Decimal
    request_id: str | None = None  # a wallet's draw is a statement entry naming its call
    occurred_at: datetime | None = None
    currency: str = "USD"

    @property
    def wallet_client(self) -> str | None:
        """The client whose wallet this spend draws on, if it is a wallet's."""
        return self.scope.removeprefix("wallet:") if self.scope.startswith("wallet:") else None


@dataclass(frozen=True, slots=True)
class CounterMove:
    """A counter's spend before and after a settlement (for threshold crossings)."""

    scope: str
    spent_before: Decimal
    spent_after: Decimal


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """A budget with its counter for one period."""

    budget: Budget
    period: Period
    spent: Decimal
    reserved: Decimal

    @property
    def remaining(self) -> Decimal:
        return max(
            Decimal(0),
            exact_sum(
                self.budget.limit.amount, self.spent.copy_negate(), self.reserved.copy_negate()
            ),
        )

    @property
    def used_percent(self) -> Decimal:
        """For display: to 4 decimals (half-even); thresholds compare exact amounts."""
        share = EXACT.divide(EXACT.multiply(self.spent, Decimal(100)), self.budget.limit.amount)
        return share.quantize(PERCENT_PLACES, rounding=ROUND_HALF_EVEN)


def worst_case(
    budget: Budget, plan: PlanVersion | None, model: Model, price: PriceVersion, bound: RequestBound
) -> Decimal:
    """The most one attempt on `model` can put on the budget (request_bounds.py)."""
    cost = max_cost(price, bound.prompt_tokens(model), bound.output_tokens(model))
    charge = plan.plan.charge(cost) if plan is not None else cost
    return budget.measure(cost, charge, plan)


def hold_amount(
    budget: Budget,
    plan: PlanVersion | None,
    targets: Sequence[tuple[Model, PriceVersion]],
    bound: RequestBound,
) -> Decimal:
    """The largest amount any target (the model, then its fallbacks) could put on the budget.
    One attempt is billed at most this; a fallback after a billed failure is tried only if
    what was billed plus its own worst case still fits (Metering.covers)."""
    amounts = [worst_case(budget, plan, model, price, bound) for model, price in targets]
    return max(amounts, default=Decimal(0))
