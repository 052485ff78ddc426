"""The schema as SQLAlchemy Core tables. Alembic migrations create it; this describes it for
queries (and a test checks that the two agree). Domain classes carry no ORM base."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from adapters.persistence.types import ExactDecimal, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def token_columns() -> list[Column[int]]:
    """Token counts by class (domain.metering.tokens), in usage records and in the daily rollup."""
    names = ("input", "output", "cached_input", "cache_write", "reasoning")
    return [Column(f"{name}_tokens", BigInteger(), nullable=False) for name in names]


ID = 64  # identifiers are UUIDs or short opaque strings
CURRENCY = 3

clients = Table(
    "clients",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("billing_email", String(320), nullable=True),
    Column("tax_rate", ExactDecimal(), nullable=False),
    Column("status", String(20), nullable=False),
)

plan_versions = Table(
    "plan_versions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("percent", ExactDecimal(), nullable=True),
    Column("amount", ExactDecimal(), nullable=True),
    Column("currency", String(CURRENCY), nullable=True),
    Column("effective_from", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    CheckConstraint(
        "(kind = 'percentage_margin' AND percent IS NOT NULL)"
        " OR (kind IN ('fixed_fee', 'fixed_price') AND amount IS NOT NULL"
        " AND currency IS NOT NULL)",
        name="plan_terms",
    ),
    Index(None, "client_id", "effective_from"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("prefix", String(40), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("allowed_models", Text(), nullable=False),  # a JSON array of model ids
    Column("rpm_limit", Integer(), nullable=True),
    Column("tpm_limit", Integer(), nullable=True),
    Index(None, "digest", unique=True),
    Index(None, "client_id"),
)

models = Table(
    "models",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("provider", String(100), nullable=False),
    Column("upstream_name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("max_output_tokens", Integer(), nullable=False),
    Column("context_window", Integer(), nullable=False),
    Column("fallbacks", Text(), nullable=False),  # a JSON array of model ids, in order
)

price_versions = Table(
    "price_versions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("model_id", String(200), ForeignKey("models.id"), nullable=False),
    Column("effective_from", UtcDateTime(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("input", ExactDecimal(), nullable=False),
    Column("output", ExactDecimal(), nullable=False),
    Column("cached_input", ExactDecimal(), nullable=True),
    Column("cache_write", ExactDecimal(), nullable=True),
    Column("reasoning", ExactDecimal(), nullable=True),
    UniqueConstraint("model_id", "effective_from"),
)

# Model aliases (domain/catalog/aliases.py): `client_id` empty for the agency-wide ones, so the
# pair is one unique key on every backend (NULLs are distinct in a UNIQUE constraint).
model_aliases = Table(
    "model_aliases",
    metadata,
    Column("client_id", String(ID), nullable=False),
    Column("name", String(128), nullable=False),
    Column("model_id", String(200), ForeignKey("models.id"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("client_id", "name"),
)

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
    UniqueConstraint("request_id", "attempt"),
    Index(None, "client_id", "started_at"),
    Index(None, "invoice_id"),
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


# Named counters, one row each: `config` moves on every write to keys, clients, plans or the
# catalog, so processes caching those can tell, with one tiny read, that their cache is stale;
# "INV-2026", "CN-2026", ... are the gap-free document numbers (taken in the finalizing
# transaction).
revisions = Table(
    "revisions",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", BigInteger(), nullable=False),
)


staff_tokens = Table(
    "staff_tokens",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("prefix", String(40), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("email", String(320), nullable=True),
    CheckConstraint("role IN ('owner', 'admin', 'viewer')", name="role"),
    Index(None, "digest", unique=True),
)

portal_tokens = Table(
    "portal_tokens",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("prefix", String(40), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Index(None, "digest", unique=True),
    Index(None, "client_id"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("kind", String(40), nullable=False),
    # NULL: the agency's own alert (a reconciliation drift), seen by staff only
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=True),
    Column("key_id", String(ID), nullable=True),
    Column("dedupe_key", String(300), nullable=False),
    Column("message", Text(), nullable=False),
    Column("details", Text(), nullable=False),  # a JSON object of strings
    Column("created_at", UtcDateTime(), nullable=False),
    Column("acknowledged_at", UtcDateTime(), nullable=True),
    Column("acknowledged_by", String(200), nullable=True),
    Column("dispatched_at", UtcDateTime(), nullable=True),
    Index(None, "dedupe_key", unique=True),
    Index(None, "client_id", "created_at"),
    Index(None, "dispatched_at", "created_at"),
)

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

# Webhooks: the signing secret is derived (HMAC of the server secret and this salt), never kept.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=True),  # null: agency
    Column("events", Text(), nullable=False),  # a JSON list of alert kinds
    Column("secret_salt", String(100), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("disabled_at", UtcDateTime(), nullable=True),
)

# One row per (alert, webhook); `locked_until` and `claim` are the lease a sender holds.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("alert_id", String(ID), ForeignKey("alerts.id"), nullable=False),
    Column("webhook_id", String(ID), ForeignKey("webhooks.id"), nullable=False),
    Column("payload", Text(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("locked_until", UtcDateTime(), nullable=True),
    Column("claim", String(ID), nullable=True),
    Column("last_status_code", Integer(), nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("delivered_at", UtcDateTime(), nullable=True),
    UniqueConstraint("alert_id", "webhook_id"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "webhook_id", "created_at"),
)

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
