"""Prepaid wallets: each client's billing mode and wallet settings, and the wallet's
statement (the balance is a budget counter, scope `wallet:<client id>`).

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def amount() -> sa.Numeric[Decimal]:
    return sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")


def instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "client_wallets",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("updated_at", instant(), nullable=False),
        sa.Column("auto_top_up_at", instant(), nullable=True),
        sa.PrimaryKeyConstraint("client_id", name="pk_client_wallets"),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_client_wallets_client_id_clients"
        ),
        sa.CheckConstraint("mode IN ('postpaid', 'prepaid')", name="ck_client_wallets_mode"),
    )
    op.create_table(
        "wallet_entries",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("amount", amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("occurred_at", instant(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_wallet_entries"),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_wallet_entries_client_id_clients"
        ),
        sa.UniqueConstraint("reference", name="uq_wallet_entries_reference"),
    )
    op.create_index(
        "ix_wallet_entries_client_id_occurred_at", "wallet_entries", ["client_id", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_wallet_entries_client_id_occurred_at", table_name="wallet_entries")
    op.drop_table("wallet_entries")
    op.drop_table("client_wallets")
