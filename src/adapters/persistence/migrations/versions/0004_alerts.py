"""Alerts (budget thresholds, hard-limit refusals, spikes); undispatched rows are the webhook
outbox.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("dedupe_key", sa.String(300), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("created_at", instant(), nullable=False),
        sa.Column("acknowledged_at", instant(), nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("dispatched_at", instant(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name="fk_alerts_client_id_clients"),
    )
    op.create_index("ix_alerts_dedupe_key", "alerts", ["dedupe_key"], unique=True)
    op.create_index("ix_alerts_client_id_created_at", "alerts", ["client_id", "created_at"])
    op.create_index("ix_alerts_dispatched_at_created_at", "alerts", ["dispatched_at", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_alerts_dispatched_at_created_at", table_name="alerts")
    op.drop_index("ix_alerts_client_id_created_at", table_name="alerts")
    op.drop_index("ix_alerts_dedupe_key", table_name="alerts")
    op.drop_table("alerts")
