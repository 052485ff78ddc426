"""Budgets, their per-period counters and in-flight reservations.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def amount() -> sa.Numeric[Decimal]:
    return sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")


def instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("limit_amount", amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("basis", sa.String(10), nullable=True),
        sa.Column("thresholds", sa.Text(), nullable=False),
        sa.Column("updated_at", instant(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name="pk_budgets"),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name="fk_budgets_client_id_clients"),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"], name="fk_budgets_key_id_api_keys"),
        sa.CheckConstraint("mode IN ('hard', 'soft')", name="ck_budgets_mode"),
    )
    op.create_table(
        "budget_counters",
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("period_start", instant(), nullable=False),
        sa.Column("spent", amount(), nullable=False),
        sa.Column("reserved", amount(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "period_start", name="pk_budget_counters"),
    )
    op.create_table(
        "budget_reservations",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("period_start", instant(), nullable=False),
        sa.Column("amount", amount(), nullable=False),
        sa.Column("created_at", instant(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "scope", name="pk_budget_reservations"),
    )
    op.create_index("ix_budget_reservations_created_at", "budget_reservations", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_budget_reservations_created_at", table_name="budget_reservations")
    op.drop_table("budget_reservations")
    op.drop_table("budget_counters")
    op.drop_table("budgets")
