"""Reconciliation: the providers' own reports (provider_reports), how far each provider is
reconciled (reconciliation_marks), and alerts of the agency's own (alerts.client_id NULL).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def amount() -> sa.Numeric[Decimal]:
    return sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")


def instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "provider_reports",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", instant(), nullable=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("api_key_id", sa.String(200), nullable=True),
        sa.Column("project_id", sa.String(200), nullable=True),
        sa.Column("requests", sa.BigInteger(), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), nullable=True),
        sa.Column("output_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cached_input_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cost", amount(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("imported_at", instant(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_provider_reports"),
    )
    op.create_index("ix_provider_reports_provider_day", "provider_reports", ["provider", "day"])
    op.create_table(
        "reconciliation_marks",
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("reconciled_through", sa.Date(), nullable=False),
        sa.Column("updated_at", instant(), nullable=False),
        sa.PrimaryKeyConstraint("provider", name="pk_reconciliation_marks"),
    )
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("client_id", existing_type=sa.String(64), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE client_id IS NULL")
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("client_id", existing_type=sa.String(64), nullable=False)
    op.drop_table("reconciliation_marks")
    op.drop_index("ix_provider_reports_provider_day", table_name="provider_reports")
    op.drop_table("provider_reports")
