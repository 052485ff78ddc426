"""Invoicing (docs/invoices.md): invoices, their lines, credit notes, closed periods and
account credits with their uses."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from adapters.persistence.tables.schema import CURRENCY, ID, metadata, token_columns
from adapters.persistence.types import ExactDecimal, UtcDateTime

# Invoicing (docs/invoices.md). Triggers in migration 0007 refuse changes to a finalized
# invoice's amounts and lines on both backends; only finalized -> paid | void is allowed.
invoices = Table(
    "invoices",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("period", String(7), nullable=False),
    Column("period_start", UtcDateTime(), nullable=False),
    Column("period_end", UtcDateTime(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("number", String(40), nullable=True),
    Column("currency", String(CURRENCY), nullable=True),
    Column("tax_rate", ExactDecimal(), nullable=True),
    Column("subtotal", ExactDecimal(), nullable=True),
    Column("tax", ExactDecimal(), nullable=True),
    Column("total", ExactDecimal(), nullable=True),
    Column("issued_at", UtcDateTime(), nullable=True),
    Column("due_at", UtcDateTime(), nullable=True),
    Column("bill_to_name", String(200), nullable=True),
    Column("bill_to_email", String(320), nullable=True),
    Column("early", Boolean(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("paid_at", UtcDateTime(), nullable=True),
    Column("voided_at", UtcDateTime(), nullable=True),
    Column("void_reason", Text(), nullable=True),
    CheckConstraint("status IN ('draft', 'finalized', 'paid', 'void')", name="status"),
    CheckConstraint(
        "status = 'draft' OR (number IS NOT NULL AND total IS NOT NULL)", name="finalized_terms"
    ),
    Index(None, "number", unique=True),
    # One live invoice per client and period; a void one frees the pair for its replacement.
    Index(
        "uq_invoices_client_id_period_live",
        "client_id",
        "period",
        unique=True,
        sqlite_where=text("status <> 'void'"),
        postgresql_where=text("status <> 'void'"),
    ),
    Index(None, "period", "status"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("invoice_id", String(ID), ForeignKey("invoices.id"), primary_key=True),
    Column("position", Integer(), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("description", Text(), nullable=False),
    Column("model_id", String(200), nullable=True),
    Column("usage_period", String(7), nullable=True),
    Column("requests", BigInteger(), nullable=False),
    *token_columns(),
    Column("amount", ExactDecimal(), nullable=False),
    Column("exact_amount", ExactDecimal(), nullable=False),
)

credit_notes = Table(
    "credit_notes",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("invoice_id", String(ID), ForeignKey("invoices.id"), nullable=False),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("number", String(40), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    Index(None, "number", unique=True),
    Index(None, "invoice_id"),
)

closed_periods = Table(
    "closed_periods",
    metadata,
    Column("period", String(7), primary_key=True),
    Column("closed_at", UtcDateTime(), nullable=False),
    Column("early", Boolean(), nullable=False),
)

# Account credits, applied as negative lines on the next invoices; what each invoice took is a
# row of credit_uses (uses by void invoices do not count, so a void gives the credit back).
account_credits = Table(
    "account_credits",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("granted_at", UtcDateTime(), nullable=False),
    Index(None, "client_id"),
)

credit_uses = Table(
    "credit_uses",
    metadata,
    Column("credit_id", String(ID), ForeignKey("account_credits.id"), primary_key=True),
    Column("invoice_id", String(ID), ForeignKey("invoices.id"), primary_key=True),
    Column("amount", ExactDecimal(), nullable=False),
)
