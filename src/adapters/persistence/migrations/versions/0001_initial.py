"""The initial schema: clients and plans, keys, the model catalog, usage, ledger, call journal,
client idempotency keys, the configuration revision counter.

Amounts are NUMERIC(38, 18) on PostgreSQL and TEXT on SQLite (exact; a NUMERIC column would let
SQLite store floats); instants are TIMESTAMP WITH TIME ZONE on PostgreSQL and UTC text on SQLite.
Constraint names follow adapters.persistence.tables.NAMING_CONVENTION.

Revision ID: 0001
Revises:
Create Date: 2025-11-30
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def amount() -> sa.Numeric[Decimal]:
    return sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")


def instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", instant(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("billing_email", sa.String(320), nullable=True),
        sa.Column("tax_rate", amount(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clients"),
    )

    op.create_table(
        "plan_versions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("percent", amount(), nullable=True),
        sa.Column("amount", amount(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("effective_from", instant(), nullable=False),
        sa.Column("created_at", instant(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plan_versions"),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_plan_versions_client_id_clients"
        ),
        sa.CheckConstraint(
            "(kind = 'percentage_margin' AND percent IS NOT NULL)"
            " OR (kind IN ('fixed_fee', 'fixed_price') AND amount IS NOT NULL"
            " AND currency IS NOT NULL)",
            name="ck_plan_versions_plan_terms",
        ),
    )
    op.create_index(
        "ix_plan_versions_client_id_effective_from",
        "plan_versions",
        ["client_id", "effective_from"],
    )

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(40), nullable=False),
        sa.Column("digest", sa.String(128), nullable=False),
        sa.Column("created_at", instant(), nullable=False),
        sa.Column("expires_at", instant(), nullable=True),
        sa.Column("revoked_at", instant(), nullable=True),
        sa.Column("allowed_models", sa.Text(), nullable=False),
        sa.Column("rpm_limit", sa.Integer(), nullable=True),
        sa.Column("tpm_limit", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_api_keys_client_id_clients"
        ),
    )
    op.create_index("ix_api_keys_digest", "api_keys", ["digest"], unique=True)
    op.create_index("ix_api_keys_client_id", "api_keys", ["client_id"])

    op.create_table(
        "models",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("upstream_name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("max_output_tokens", sa.Integer(), nullable=False),
        sa.Column("context_window", sa.Integer(), nullable=False),
        sa.Column("fallbacks", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_models"),
    )

    op.create_table(
        "price_versions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("effective_from", instant(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("input", amount(), nullable=False),
        sa.Column("output", amount(), nullable=False),
        sa.Column("cached_input", amount(), nullable=True),
        sa.Column("cache_write", amount(), nullable=True),
        sa.Column("reasoning", amount(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_price_versions"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name="fk_price_versions_model_id_models"
        ),
        sa.UniqueConstraint(
            "model_id", "effective_from", name="uq_price_versions_model_id_effective_from"
        ),
    )

    op.create_table(
        "usage_records",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("api_key_id", sa.String(64), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cached_input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost", amount(), nullable=False),
        sa.Column("cost_currency", sa.String(3), nullable=False),
        sa.Column("charge", amount(), nullable=False),
        sa.Column("charge_currency", sa.String(3), nullable=False),
        sa.Column("price_version_id", sa.String(64), nullable=False),
        sa.Column("plan_version_id", sa.String(64), nullable=True),
        sa.Column("started_at", instant(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_records"),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_usage_records_client_id_clients"
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name="fk_usage_records_api_key_id_api_keys"
        ),
        sa.UniqueConstraint("request_id", "attempt", name="uq_usage_records_request_id_attempt"),
    )
    op.create_index(
        "ix_usage_records_client_id_started_at", "usage_records", ["client_id", "started_at"]
    )

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("amount", amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("occurred_at", instant(), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_entries"),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_ledger_entries_client_id_clients"
        ),
        sa.UniqueConstraint(
            "client_id", "kind", "reference", name="uq_ledger_entries_client_id_kind_reference"
        ),
    )
    op.create_index(
        "ix_ledger_entries_client_id_occurred_at", "ledger_entries", ["client_id", "occurred_at"]
    )

    op.create_table(
        "call_journal",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("api_key_id", sa.String(64), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("started_at", instant(), nullable=False),
        sa.Column("max_output_tokens", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name="pk_call_journal"),
    )
    op.create_index("ix_call_journal_state_started_at", "call_journal", ["state", "started_at"])

    op.create_table(
        "idempotency_keys",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("created_at", instant(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("streamed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("response", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("client_id", "key", name="pk_idempotency_keys"),
    )

    revisions = op.create_table(
        "revisions",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_revisions"),
    )
    op.bulk_insert(revisions, [{"name": "config", "value": 0}])


def downgrade() -> None:
    op.drop_table("revisions")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_call_journal_state_started_at", table_name="call_journal")
    op.drop_table("call_journal")
    op.drop_index("ix_ledger_entries_client_id_occurred_at", table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_index("ix_usage_records_client_id_started_at", table_name="usage_records")
    op.drop_table("usage_records")
    op.drop_table("price_versions")
    op.drop_table("models")
    op.drop_index("ix_api_keys_client_id", table_name="api_keys")
    op.drop_index("ix_api_keys_digest", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_index("ix_plan_versions_client_id_effective_from", table_name="plan_versions")
    op.drop_table("plan_versions")
    op.drop_table("clients")
