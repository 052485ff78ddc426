"""Money received through a payment processor, and how a payment meets an invoice.

A payment is applied to its invoice up to the invoice's open balance (its total less what
earlier payments applied); whatever is left over becomes an account credit, and a payment
short of the balance leaves the rest open. Nothing received is ever dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.billing.money import Money
from domain.timeutil import require_aware


class Movement(StrEnum):
    PAYMENT = "payment"  # money in: an invoice paid or a wallet topped up
    REFUND = "refund"  # money given back to the client
    DISPUTE = "dispute"  # money withdrawn by a chargeback


class Purpose(StrEnum):
    """What a payment was for (the metadata Bizgraph puts on every payment it starts)."""

    INVOICE = "invoice"
    TOP_UP = "top_up"  # the client topped up in the portal, through a hosted page
    AUTO_TOP_UP = "auto_top_up"  # an off-session charge of the saved payment method


@dataclass(frozen=True, slots=True)
class Received:
    """One movement of money, unique per (movement, dedupe): a payment per payment id, a
    refund per charge and refunded total, a dispute per dispute id."""

    id: str
    client_id: str
    movement: Movement
    purpose: Purpose | None
    invoice_id: str | None
    payment_ref: str  # the processor's payment id (a Stripe PaymentIntent)
    charge_ref: str | None
    dedupe: str
    amount: Money  # positive: what moved
    applied: Money  # of a payment: what went to its invoice (the rest became a credit)
    occurred_at: datetime
    event_id: str

    def __post_init__(self) -> None:
        require_aware(self.occurred_at, "occurred_at")


@dataclass(frozen=True, slots=True)
class Application:
    applied: Money  # paid toward the invoice
    excess: Money  # beyond its open balance: an account credit
    settles: bool  # the invoice is paid in full with this payment


def apply_payment(total: Money, paid_before: Money, amount: Money) -> Application:
    """`amount` against an invoice of `total` of which `paid_before` was paid already."""
    open_balance = total - paid_before
    if open_balance < Money.zero(total.currency):
        open_balance = Money.zero(total.currency)
    applied = amount if amount <= open_balance else open_balance
    excess = amount - applied
    return Application(applied, excess, applied == open_balance)
