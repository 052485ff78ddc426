"""Exchange rates (docs/currencies.md): the operator's dated rates, and what finalizing froze
onto each invoice: the rates it used and, per converted line, the amount before conversion
and the exact converted amount (up to 30 decimals: a charge times a rate)."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table

from adapters.persistence.tables.schema import CURRENCY, ID, metadata
from adapters.persistence.types import ExactDecimal, UtcDateTime, WideExactDecimal

exchange_rates = Table(
    "exchange_rates",
    metadata,
    Column("base", String(CURRENCY), primary_key=True),
    Column("quote", String(CURRENCY), primary_key=True),
    Column("effective_on", Date(), primary_key=True),
    Column("rate", ExactDecimal(), nullable=False),
    Column("source", String(100), nullable=False),
    Column("set_at", UtcDateTime(), nullable=False),
)

invoice_exchange_rates = Table(
    "invoice_exchange_rates",
    metadata,
    Column("invoice_id", String(ID), ForeignKey("invoices.id"), primary_key=True),
    Column("base", String(CURRENCY), primary_key=True),
    Column("quote", String(CURRENCY), primary_key=True),
    Column("effective_on", Date(), primary_key=True),
    Column("rate", ExactDecimal(), nullable=False),
    Column("source", String(100), nullable=False),
)

invoice_line_conversions = Table(
    "invoice_line_conversions",
    metadata,
    Column("invoice_id", String(ID), ForeignKey("invoices.id"), primary_key=True),
    Column("position", Integer(), primary_key=True),
    Column("source_amount", ExactDecimal(), nullable=False),
    Column("source_currency", String(CURRENCY), nullable=False),
    Column("exact_amount", WideExactDecimal(), nullable=False),
)
