"""What each call leaves behind: the usage record, the daily rollup, the ledger entry, the
journal of calls in flight with the process leases that own them, and idempotency keys."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from adapters.persistence.tables.schema import CURRENCY, ID, metadata, token_columns
from adapters.persistence.types import ExactDecimal, UtcDateTime

usage_records = Table(
    "usage_records",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("request_id", String(ID), nullable=False),
    Column("attempt", Integer(), nullable=False),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("api_key_id", String(ID), ForeignKey("api_keys.id"), nullable=False),
    Column("model_id", String(200), nullable=False),
    Column("provider", String(100), nullable=False),
    *token_columns(),
    Column("cost", ExactDecimal(), nullable=False),
    Column("cost_currency", String(CURRENCY), nullable=False),
    Column("charge", ExactDecimal(), nullable=False),
    Column("charge_currency", String(CURRENCY), nullable=False),
    Column("price_version_id", String(ID), nullable=False),
    Column("plan_version_id", String(ID), nullable=True),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("latency_ms", Integer(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("source", String(20), nullable=False),
    Column("invoice_id", String(ID), nullable=True),  # set when an invoice takes the record
    Column("alias", String(128), nullable=True),  # the alias called (domain/catalog/aliases.py)
    # BYOK (docs/byok.md): made with the client's own key; the catalog's list price then,
    # which the provider bills the client directly (cost is zero for the agency).
    Column("byok", Boolean(), nullable=False, server_default=false()),
    Column("list_cost", ExactDecimal(), nullable=True),
    UniqueConstraint("request_id", "attempt"),
    Index(None, "client_id", "started_at"),
    Index(None, "invoice_id"),
    # the reconciliation page lists estimated calls across clients (docs/reconciliation.md)
    Index(
        "ix_usage_records_started_at_estimated",
        "started_at",
        sqlite_where=text("source = 'estimated'"),
        postgresql_where=text("source = 'estimated'"),
    ),
)

# Usage per client and UTC day, kept on PostgreSQL in the transaction that inserts each usage
# record, so dashboards over a month read ~30 rows per client instead of every call
# (repositories/usage_totals.py). SQLite deployments are small and aggregate the records.
usage_daily = Table(
    "usage_daily",
    metadata,
    Column("client_id", String(ID), ForeignKey("clients.id"), primary_key=True),
    Column("day", Date(), primary_key=True),
    Column("cost_currency", String(CURRENCY), primary_key=True),
    Column("charge_currency", String(CURRENCY), primary_key=True),
    Column("requests", BigInteger(), nullable=False),
    *token_columns(),
    Column("cost", ExactDecimal(), nullable=False),
    Column("charge", ExactDecimal(), nullable=False),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("description", Text(), nullable=False),
    UniqueConstraint("client_id", "kind", "reference"),
    Index(None, "client_id", "occurred_at"),
)

call_journal = Table(
    "call_journal",
    metadata,
    Column("request_id", String(ID), primary_key=True),
    Column("client_id", String(ID), nullable=False),
    Column("api_key_id", String(ID), nullable=False),
    Column("model_id", String(200), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("max_output_tokens", Integer(), nullable=False),
    Column("state", String(20), nullable=False),
    Column("owner", String(ID), nullable=True),  # the serving process's lease (process_leases)
    Column("prompt_chars", BigInteger(), nullable=False, server_default=text("0")),
    Column("output_chars", BigInteger(), nullable=False, server_default=text("0")),
    Column("alias", String(128), nullable=True),
    Index(None, "state", "started_at"),
)

# One row per serving process, renewed by its heartbeat: a journal row whose owner has no live
# lease here belongs to a process that died (domain/metering/leases.py).
process_leases = Table(
    "process_leases",
    metadata,
    Column("process_id", String(ID), primary_key=True),
    Column("expires_at", UtcDateTime(), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("client_id", String(ID), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("body_hash", String(64), nullable=False),
    Column("request_id", String(ID), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("state", String(20), nullable=False),
    Column("streamed", Boolean(), nullable=False),
    Column("status", Integer(), nullable=True),
    Column("response", LargeBinary(), nullable=True),
)
