"""Budgets, their per-period counters, the reservations of calls in flight and the process
leases on a budget's headroom (docs/budgets.md)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from adapters.persistence.tables.schema import CURRENCY, ID, metadata
from adapters.persistence.types import ExactDecimal, UtcDateTime

# Budgets per client (key_id NULL) or per key; `scope` is "client:<id>" or "key:<id>".
budgets = Table(
    "budgets",
    metadata,
    Column("scope", String(80), primary_key=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("key_id", String(ID), ForeignKey("api_keys.id"), nullable=True),
    Column("limit_amount", ExactDecimal(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("mode", String(10), nullable=False),
    Column("basis", String(10), nullable=True),  # NULL: by the plan in force
    Column("thresholds", Text(), nullable=False),  # a JSON array of percents
    Column("updated_at", UtcDateTime(), nullable=False),
    CheckConstraint("mode IN ('hard', 'soft')", name="mode"),
)

# One counter per budget scope and billing period: the row hard-limit holds are conditional on.
budget_counters = Table(
    "budget_counters",
    metadata,
    Column("scope", String(80), primary_key=True),
    Column("period_start", UtcDateTime(), primary_key=True),
    Column("spent", ExactDecimal(), nullable=False),
    Column("reserved", ExactDecimal(), nullable=False),
)

# One row per call and budget while the call is in flight; settling deletes it.
budget_reservations = Table(
    "budget_reservations",
    metadata,
    Column("request_id", String(ID), primary_key=True),
    Column("scope", String(80), primary_key=True),
    Column("period_start", UtcDateTime(), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index(None, "created_at"),
)

# A process's slice of a budget's headroom for one period, counted in the counter's `reserved`;
# its calls hold from it in memory (domain/budgets/leases.py). Reclaimed when the process dies.
budget_leases = Table(
    "budget_leases",
    metadata,
    Column("process_id", String(ID), primary_key=True),
    Column("scope", String(80), primary_key=True),
    Column("period_start", UtcDateTime(), primary_key=True),
    Column("amount", ExactDecimal(), nullable=False),
)
