"""Prepaid wallets: a client's billing mode, its wallet's settings, and the wallet as the
budget its calls hold on (docs/wallets.md).

A prepaid client's calls are held on the wallet exactly as on a hard budget (domain/budgets/):
the wallet is one everlasting budget counter whose `spent` is minus the balance and whose
limit is 0, so the conditional hold `spent + reserved + hold <= 0` reads "the balance covers
every hold in flight", across processes, with the same leases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.billing.money import Money, input_decimal, validate_currency
from domain.budgets.limits import Budget, BudgetBasis, BudgetMode
from domain.errors import DomainError, ValidationError
from domain.timeutil import require_aware

MAX_NOTE = 500
MAX_REFERENCE = 200
MAX_LOW_BALANCE_DAYS = 365


class BillingMode(StrEnum):
    POSTPAID = "postpaid"  # the monthly invoice (the default)
    PREPAID = "prepaid"  # calls draw down the wallet


class PaymentsNotConfigured(DomainError):
    """Something needs a payment processor and none is configured."""

    code = "payments_not_configured"


class WalletIsPostpaid(ValidationError):
    """A payment-page top-up of a postpaid client's wallet: its calls are invoiced monthly,
    so the money would sit unused."""

    code = "wallet_postpaid"


class InsufficientBalance(DomainError):
    """A draw that must fit the balance does not."""

    code = "insufficient_balance"


@dataclass(frozen=True, slots=True)
class WalletSettings:
    """`low_balance`: alert under this amount; `low_balance_days`: alert when the balance
    covers fewer days of the last week's average spend; auto top-up charges
    `auto_top_up_amount` when the balance falls under `auto_top_up_below` (needs a payment
    processor); `overdraw_fixed`: a wallet short of the period's fixed amounts goes negative
    by them (True) or the client is suspended (False)."""

    low_balance: Decimal | None = None
    low_balance_days: int | None = None
    auto_top_up_below: Decimal | None = None
    auto_top_up_amount: Decimal | None = None
    overdraw_fixed: bool = False

    def __post_init__(self) -> None:
        for name in ("low_balance", "auto_top_up_below", "auto_top_up_amount"):
            value = getattr(self, name)
            if value is not None:
                value = input_decimal(value, what=name.replace("_", " "))
                if value < 0:
                    raise ValidationError(f"{name.replace('_', ' ')} cannot be negative")
                object.__setattr__(self, name, value)
        days = self.low_balance_days
        if days is not None and not 1 <= days <= MAX_LOW_BALANCE_DAYS:
            raise ValidationError(f"low balance days are between 1 and {MAX_LOW_BALANCE_DAYS}")
        if (self.auto_top_up_below is None) != (self.auto_top_up_amount is None):
            raise ValidationError("auto top-up needs both a threshold and an amount")
        if self.auto_top_up_amount is not None and self.auto_top_up_amount <= 0:
            raise ValidationError("the auto top-up amount must be positive")

    @property
    def auto_top_up(self) -> bool:
        return self.auto_top_up_amount is not None


@dataclass(frozen=True, slots=True)
class Wallet:
    client_id: str
    currency: str
    mode: BillingMode
    updated_at: datetime
    settings: WalletSettings = field(default_factory=WalletSettings)

    def __post_init__(self) -> None:
        require_aware(self.updated_at, "updated_at")
        validate_currency(self.currency)

    @property
    def prepaid(self) -> bool:
        return self.mode is BillingMode.PREPAID

    def budget(self) -> Budget:
        """The hard budget a prepaid client's calls hold on (measured in what it is charged)."""
        return Budget(
            client_id=self.client_id,
            key_id=None,
            limit=Money(Decimal(0), self.currency),
            mode=BudgetMode.HARD,
            updated_at=self.updated_at,
            basis=BudgetBasis.CHARGE,
            thresholds=(),
            wallet=True,
        )


@dataclass(frozen=True, slots=True)
class WalletBalance:
    """The balance (the sum of the statement's entries) and what calls in flight hold on it."""

    balance: Money
    held: Money

    @property
    def available(self) -> Money:
        return self.balance - self.held
