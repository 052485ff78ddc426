"""Settling a call billed on an estimate (a crashed process, a cut stream: docs/metering.md) once
the provider's own report shows what it really used (docs/reconciliation.md).

The usage record stays as it is (records are never edited). The settlement is a new, audited row
beside it: the actual tokens, the differences in cost and charge they make at the record's own
price version and plan version, who settled it, when and why, and what was done with the
charge difference, converted at the call's day rate and rounded once in the client's currency:
- the client was charged too much: it gets it back, as an account credit on its next invoice
  (postpaid) or credited to its wallet (prepaid);
- too little: the agency absorbs it, unless the operator bills it, as a line on the next
  invoice (postpaid) or drawn from the wallet (prepaid).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.billing.money import Money, round_to_minor
from domain.billing.plans import PlanVersion
from domain.catalog.models import PriceVersion
from domain.errors import ValidationError
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageRecord, UsageSource
from domain.timeutil import require_aware

# Far above any model's context and output; a figure beyond it is a typing error.
MAX_SETTLED_TOKENS = 100_000_000


class SettlementOutcome(StrEnum):
    UNCHANGED = "unchanged"  # the estimate was right to the minor unit: nothing moves
    CREDITED = "credited"  # over-estimate: an account credit on the next invoice
    WALLET_CREDITED = "wallet_credited"  # over-estimate of a prepaid client
    ABSORBED = "absorbed"  # under-estimate the agency keeps
    BILLED = "billed"  # under-estimate as a line on the next invoice
    WALLET_DRAWN = "wallet_drawn"  # under-estimate drawn from a prepaid wallet


@dataclass(frozen=True, slots=True)
class EstimateSettlement:
    """Unique per usage record: a call is settled once."""

    id: str
    record: UsageRecord  # the estimated record, as it is
    actual: TokenUsage  # what the provider reported for the call
    cost_delta: Money  # exact, in the price's currency: actual cost - recorded cost
    charge_delta: Money  # exact, in the price's currency: actual charge - recorded charge
    amount: Money  # the charge delta in the client's currency, rounded once (signed)
    outcome: SettlementOutcome
    reason: str
    actor: str
    settled_at: datetime
    reference: str | None = None  # the account credit or wallet entry it made
    invoice_id: str | None = None  # BILLED: the invoice that took it (None: not yet)

    def __post_init__(self) -> None:
        require_aware(self.settled_at, "settled_at")

    @property
    def client_id(self) -> str:
        return self.record.client_id


@dataclass(frozen=True, slots=True)
class Repriced:
    cost: Money
    charge: Money


def check_settleable(record: UsageRecord) -> None:
    """Only an estimated call of the agency's own key is settled against the agency's reports."""
    if record.source is not UsageSource.ESTIMATED:
        raise ValidationError("this call's usage was reported by the provider: nothing to settle")
    if record.byok:
        raise ValidationError(
            "this call was made with the client's own provider key: the provider bills the "
            "client directly, and the agency's reports do not show it"
        )


def check_actual(actual: TokenUsage) -> TokenUsage:
    for name in ("input_tokens", "output_tokens"):
        if getattr(actual, name) > MAX_SETTLED_TOKENS:
            raise ValidationError(f"{name} is at most {MAX_SETTLED_TOKENS}")
    return actual


def reprice(price: PriceVersion, plan: PlanVersion | None, actual: TokenUsage) -> Repriced:
    """The cost and charge `actual` would have made, as settling the call made them: at the
    call's price version, charged under its plan version."""
    cost = price.cost(actual)
    return Repriced(cost, plan.plan.charge(cost) if plan is not None else cost)


def client_amount(delta_in_client_currency: Money) -> Money:
    """The one rounding: the charge difference in the client's currency, half-even."""
    amount = delta_in_client_currency
    return Money(round_to_minor(amount.amount, amount.currency), amount.currency)


def outcome_for(amount: Money, prepaid: bool, bill_shortfall: bool) -> SettlementOutcome:
    """What happens to the rounded charge difference (negative: the client paid too much)."""
    if amount.amount == 0:
        return SettlementOutcome.UNCHANGED
    if amount.amount < 0:
        return SettlementOutcome.WALLET_CREDITED if prepaid else SettlementOutcome.CREDITED
    if not bill_shortfall:
        return SettlementOutcome.ABSORBED
    return SettlementOutcome.WALLET_DRAWN if prepaid else SettlementOutcome.BILLED


def describe(settlement: EstimateSettlement) -> str:
    """The text of its credit, wallet entry or invoice line."""
    record = settlement.record
    day = record.started_at.date().isoformat()
    return (
        f"Settled estimate: {record.model_id} call of {day} "
        f"({settlement.actual.total_tokens} tokens reported, "
        f"{record.usage.total_tokens} estimated): {settlement.reason}"
    )


def suggested_actual(
    reported: TokenUsage | None, recorded: TokenUsage, estimate: TokenUsage, estimated_calls: int
) -> TokenUsage | None:
    """What the provider's hour implies the one estimated call in it used: the hour's reported
    tokens minus what Bizgraph recorded for its other calls. None when the hour holds several
    estimated calls (the difference cannot be told apart), the provider reported no tokens, or
    the difference is negative in some class (the report is late or counts otherwise)."""
    if reported is None or estimated_calls != 1:
        return None
    names = (
        "input_tokens",
        "output_tokens",
        "cached_input_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
    )
    values = {
        name: getattr(reported, name) - (getattr(recorded, name) - getattr(estimate, name))
        for name in names
    }
    if any(value < 0 for value in values.values()):
        return None
    try:
        return TokenUsage(**values)
    except ValidationError:
        return None
