"""Invoice delivery (docs/delivery.md): the outbox of invoice emails, one row per message,
with a sender's lease (`locked_until`, `claim`) as for webhook deliveries."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from adapters.persistence.tables.schema import ID, metadata
from adapters.persistence.types import UtcDateTime

invoice_mails = Table(
    "invoice_mails",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("invoice_id", String(ID), ForeignKey("invoices.id"), nullable=False),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("dedupe_key", String(200), nullable=False),
    Column("recipient", String(320), nullable=True),  # NULL: the client has no billing email
    Column("status", String(20), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("locked_until", UtcDateTime(), nullable=True),
    Column("claim", String(ID), nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("days_overdue", Integer(), nullable=True),
    Column("requested_by", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Index(None, "dedupe_key", unique=True),
    Index(None, "status", "next_attempt_at"),
    Index(None, "invoice_id", "created_at"),
)
