"""Payments through a processor (Stripe): each client's customer there, each invoice's pay
link, the money received, refunded or disputed, and the processor's events already applied."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from adapters.persistence.tables.schema import CURRENCY, ID, metadata
from adapters.persistence.types import ExactDecimal, UtcDateTime

REF = 255  # Stripe ids are short; bounded all the same

# A client's customer at the processor, created on first need (one per client, and one client
# per customer).
stripe_customers = Table(
    "stripe_customers",
    metadata,
    Column("client_id", String(ID), ForeignKey("clients.id"), primary_key=True),
    Column("customer_ref", String(REF), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

# The current Checkout Session of a finalized invoice (replaced when it expires).
payment_links = Table(
    "payment_links",
    metadata,
    Column("invoice_id", String(ID), ForeignKey("invoices.id"), primary_key=True),
    Column("session_ref", String(REF), nullable=False),
    Column("url", Text(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

# Every movement of money through the processor, once per (movement, dedupe): a payment per
# payment id, a refund per charge and refunded total, a dispute per dispute id.
payments_received = Table(
    "payments_received",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("movement", String(20), nullable=False),
    Column("purpose", String(20), nullable=True),
    Column("invoice_id", String(ID), ForeignKey("invoices.id"), nullable=True),
    Column("payment_ref", String(REF), nullable=False),
    Column("charge_ref", String(REF), nullable=True),
    Column("dedupe", String(REF + 30), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
    Column("applied", ExactDecimal(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("event_id", String(REF), nullable=False),
    UniqueConstraint("movement", "dedupe"),
    Index(None, "invoice_id"),
    Index(None, "payment_ref"),
)

# Processor events applied (Stripe delivers at least once): a redelivery does nothing.
processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", String(REF), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("processed_at", UtcDateTime(), nullable=False),
)
