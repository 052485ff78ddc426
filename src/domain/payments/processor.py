"""What Bizgraph needs from a payment processor (Stripe), in the domain's terms, and what it
stores about payments. The adapter in `adapters/payments/` speaks Stripe's API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.billing.money import Money
from domain.errors import DomainError, ValidationError
from domain.payments.ports import ChargeResult
from domain.payments.received import Purpose, Received


class InvalidSignature(ValidationError):
    """A webhook whose signature does not verify (answered 400, as Stripe expects)."""

    code = "invalid_signature"


class ProcessorUnavailable(DomainError):
    """The processor could not be reached or refused the request (with a message fit to
    show an operator: never the secret key)."""

    code = "payment_processor_unavailable"


class EventKind(StrEnum):
    CHECKOUT_COMPLETED = "checkout.session.completed"
    PAYMENT_SUCCEEDED = "payment_intent.succeeded"
    PAYMENT_FAILED = "payment_intent.payment_failed"
    CHARGE_REFUNDED = "charge.refunded"
    DISPUTE_CREATED = "charge.dispute.created"
    OTHER = "other"  # answered 200 and ignored


@dataclass(frozen=True, slots=True)
class ProcessorEvent:
    """A verified event, reduced to what Bizgraph records. Amounts are exact Money."""

    id: str
    kind: EventKind
    type: str
    created_at: datetime
    payment_ref: str | None = None  # the PaymentIntent
    charge_ref: str | None = None
    customer_ref: str | None = None
    purpose: Purpose | None = None
    client_id: str | None = None
    invoice_id: str | None = None
    amount: Money | None = None  # paid, refunded in total so far, or disputed
    paid: bool = False  # a completed checkout whose money arrived (not a delayed method)
    dispute_ref: str | None = None
    message: str = ""  # why a payment failed, a dispute's reason


@dataclass(frozen=True, slots=True)
class HostedPage:
    id: str
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    customer_ref: str
    amount: Money
    description: str
    purpose: Purpose
    client_id: str
    success_url: str
    cancel_url: str
    idempotency_key: str
    invoice_id: str | None = None
    invoice_number: str | None = None
    save_payment_method: bool = False  # for later off-session charges (auto top-up)


class PaymentProcessor(Protocol):
    async def create_customer(
        self, client_id: str, name: str, email: str | None, idempotency_key: str
    ) -> str:
        """The new customer's id; the same key returns the same customer."""
        ...

    async def create_checkout(self, request: CheckoutRequest) -> HostedPage: ...

    async def charge_saved(
        self, customer_ref: str, amount: Money, reference: str, metadata: Mapping[str, str]
    ) -> ChargeResult:
        """Charge the customer's saved payment method off-session; `reference` is the
        idempotency key."""
        ...

    def parse_event(self, payload: bytes, signature: str | None) -> ProcessorEvent:
        """Verify the signature (InvalidSignature) and read the event."""
        ...

    async def close(self) -> None:
        """Release the connection pool."""
        ...


@dataclass(frozen=True, slots=True)
class StoredLink:
    invoice_id: str
    session_ref: str
    url: str
    expires_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReturnUrls:
    """Where the hosted page sends the client back (derived from BIZGRAPH_PUBLIC_URL)."""

    success: str
    cancel: str
    extra: Mapping[str, str] = field(default_factory=dict)


class PaymentRepository(Protocol):
    """Customers, pay links, money received and processed events (in the invoicing unit of
    work, so a payment, its invoice and its ledger entry commit together)."""

    async def customer_of(self, client_id: str) -> str | None: ...
    async def save_customer(self, client_id: str, customer_ref: str, at: datetime) -> bool:
        """False (nothing written) when the client has one already."""
        ...

    async def client_of_customer(self, customer_ref: str) -> str | None: ...
    async def link(self, invoice_id: str) -> StoredLink | None: ...
    async def save_link(self, link: StoredLink) -> None:
        """Insert or replace the invoice's link."""
        ...

    async def add(self, received: Received) -> bool:
        """False (nothing written) when (movement, dedupe) was recorded already."""
        ...

    async def applied_to(self, invoice_id: str, currency: str) -> Money:
        """What payments applied to the invoice so far."""
        ...

    async def by_payment(self, payment_ref: str) -> Sequence[Received]: ...
    async def for_invoice(self, invoice_id: str) -> Sequence[Received]: ...
    async def event_seen(self, event_id: str) -> bool: ...
    async def mark_event(self, event_id: str, event_type: str, at: datetime) -> bool:
        """False when the event was marked already (another delivery won)."""
        ...
