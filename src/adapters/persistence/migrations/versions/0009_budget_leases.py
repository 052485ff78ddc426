"""Budget leases: each serving process holds a slice of a budget's headroom (counted in the
counter's `reserved`) and serves its calls' holds from it in memory.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def amount() -> sa.Numeric[Decimal]:
    return sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "budget_leases",
        sa.Column("process_id", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", amount(), nullable=False),
        sa.PrimaryKeyConstraint("process_id", "scope", "period_start", name="pk_budget_leases"),
    )


def downgrade() -> None:
    op.drop_table("budget_leases")
