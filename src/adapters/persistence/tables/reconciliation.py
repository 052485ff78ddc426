"""What providers report they billed, how far each provider is reconciled, and the settlements
of calls billed on an estimate."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from adapters.persistence.tables.schema import CURRENCY, ID, metadata, token_columns
from adapters.persistence.types import ExactDecimal, UtcDateTime

# What providers report they billed (their usage and cost APIs, a billing export, an invoice),
# per UTC day (or hour: `hour` set) and model, optionally per API key or project. A figure the
# report does not carry is NULL (tokens all together). Reconciliation compares these rows with
# usage_records on demand; a new report of a provider's day replaces the stored one.
provider_reports = Table(
    "provider_reports",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("provider", String(100), nullable=False),
    Column("day", Date(), nullable=False),
    Column("hour", UtcDateTime(), nullable=True),
    Column("model", String(200), nullable=False),
    Column("api_key_id", String(200), nullable=True),
    Column("project_id", String(200), nullable=True),
    Column("requests", BigInteger(), nullable=True),
    Column("input_tokens", BigInteger(), nullable=True),
    Column("output_tokens", BigInteger(), nullable=True),
    Column("cached_input_tokens", BigInteger(), nullable=True),
    Column("cache_write_tokens", BigInteger(), nullable=True),
    Column("cost", ExactDecimal(), nullable=True),
    Column("currency", String(CURRENCY), nullable=False),
    Column("origin", String(20), nullable=False),
    Column("imported_at", UtcDateTime(), nullable=False),
    Index(None, "provider", "day"),
)

# How far each provider is reconciled: the last UTC day compared with its report.
reconciliation_marks = Table(
    "reconciliation_marks",
    metadata,
    Column("provider", String(100), primary_key=True),
    Column("reconciled_through", Date(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# Calls billed on an estimate, settled against the provider's figures
# (domain/metering/estimate_settlements.py): one row per usage record, never edited but for
# `invoice_id` (set when an invoice bills a `billed` settlement, cleared when it is void).
estimate_settlements = Table(
    "estimate_settlements",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("usage_record_id", String(ID), ForeignKey("usage_records.id"), nullable=False),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    *token_columns(),  # the actual tokens
    Column("cost_delta", ExactDecimal(), nullable=False),
    Column("charge_delta", ExactDecimal(), nullable=False),
    Column("delta_currency", String(CURRENCY), nullable=False),  # the price's
    Column("amount", ExactDecimal(), nullable=False),  # rounded, in the client's currency
    Column("currency", String(CURRENCY), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("settled_at", UtcDateTime(), nullable=False),
    Column("reference", String(200), nullable=True),
    Column("invoice_id", String(ID), nullable=True),
    Index(None, "usage_record_id", unique=True),
    Index(None, "client_id", "invoice_id"),
)
