"""Prepaid wallets: each client's billing mode and wallet settings, and the wallet's statement
(docs/wallets.md). The balance itself is a budget counter (scope `wallet:<client id>`), so
calls hold on it with the budgets' leases."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text

from adapters.persistence.tables.schema import CURRENCY, ID, metadata
from adapters.persistence.types import ExactDecimal, UtcDateTime

client_wallets = Table(
    "client_wallets",
    metadata,
    Column("client_id", String(ID), ForeignKey("clients.id"), primary_key=True),
    Column("currency", String(CURRENCY), nullable=False),
    Column("mode", String(10), nullable=False),
    Column("settings", Text(), nullable=False),  # a JSON object (WalletSettings)
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("auto_top_up_at", UtcDateTime(), nullable=True),  # the last auto top-up attempt
    CheckConstraint("mode IN ('postpaid', 'prepaid')", name="mode"),
)

# Append-only: top-ups, draws, refunds and adjustments; the balance is their sum.
wallet_entries = Table(
    "wallet_entries",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("reference", String(200), nullable=False, unique=True),
    Column("source", String(40), nullable=False),
    Column("note", Text(), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Index(None, "client_id", "occurred_at"),
)
