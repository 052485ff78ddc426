"""Settled estimates (docs/reconciliation.md): estimate_settlements, one row per usage record
billed on an estimate and settled against the provider's figures; and an index on the
estimated usage records, which the reconciliation page lists across clients. Existing rows
are untouched.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def amount() -> sa.Numeric[Decimal]:
    return sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    tokens = ("input", "output", "cached_input", "cache_write", "reasoning")
    op.create_table(
        "estimate_settlements",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("usage_record_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        *(sa.Column(f"{name}_tokens", sa.BigInteger(), nullable=False) for name in tokens),
        sa.Column("cost_delta", amount(), nullable=False),
        sa.Column("charge_delta", amount(), nullable=False),
        sa.Column("delta_currency", sa.String(3), nullable=False),
        sa.Column("amount", amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("invoice_id", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["usage_record_id"],
            ["usage_records.id"],
            name="fk_estimate_settlements_usage_record_id_usage_records",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_estimate_settlements_client_id_clients"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_estimate_settlements"),
    )
    op.create_index(
        "ix_estimate_settlements_usage_record_id",
        "estimate_settlements",
        ["usage_record_id"],
        unique=True,
    )
    op.create_index(
        "ix_estimate_settlements_client_id_invoice_id",
        "estimate_settlements",
        ["client_id", "invoice_id"],
    )
    op.create_index(
        "ix_usage_records_started_at_estimated",
        "usage_records",
        ["started_at"],
        sqlite_where=sa.text("source = 'estimated'"),
        postgresql_where=sa.text("source = 'estimated'"),
    )


def downgrade() -> None:
    op.drop_index("ix_usage_records_started_at_estimated", table_name="usage_records")
    op.drop_index("ix_estimate_settlements_client_id_invoice_id", table_name="estimate_settlements")
    op.drop_index("ix_estimate_settlements_usage_record_id", table_name="estimate_settlements")
    op.drop_table("estimate_settlements")
