"""What wallets, invoice delivery and a payment processor (Stripe) need from each other.

Each side is optional: without a processor, invoices carry no pay link, the portal's top-up
button is disabled and auto top-up cannot be switched on. The processor credits wallets
through `WalletCredits`, which is idempotent on the processor's reference, so an event
delivered three times credits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.billing.money import Money


class PaymentLinks(Protocol):
    """A link where the client pays a finalized invoice, or None when payments are off."""

    async def link_for(self, invoice_id: str) -> str | None: ...


class TopUpCheckout(Protocol):
    """Starts a hosted payment page crediting `amount` to the client's wallet once paid;
    returns the page's URL."""

    async def start(self, client_id: str, amount: Money) -> str: ...


class ChargeOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"  # confirmed later by the processor's event, which credits the wallet
    FAILED = "failed"
    NO_PAYMENT_METHOD = "no_payment_method"


@dataclass(frozen=True, slots=True)
class ChargeResult:
    outcome: ChargeOutcome
    reference: str | None = None  # the processor's payment id
    message: str | None = None  # why it failed, fit to show an operator


class SavedPaymentMethods(Protocol):
    """Charges the client's saved payment method off-session (auto top-up). `reference` is
    the caller's idempotency key: charging twice with one reference charges once."""

    async def charge(self, client_id: str, amount: Money, reference: str) -> ChargeResult: ...


class WalletCredits(Protocol):
    """Credits a prepaid client's wallet, and takes a refunded top-up back out of it. Both are
    idempotent on `reference` (a Stripe payment intent id, a refund's reference): they return
    False when that reference was already posted."""

    async def credit_top_up(
        self, client_id: str, amount: Money, *, reference: str, source: str, note: str = ""
    ) -> bool: ...

    async def refund_top_up(
        self, client_id: str, amount: Money, *, reference: str, note: str = ""
    ) -> bool:
        """A top-up refunded to the client by the processor: debited from the wallet, never
        below what calls in flight hold (the part the wallet cannot cover is alerted)."""
        ...
