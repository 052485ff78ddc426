"""Usage per client and UTC day (maintained and read on PostgreSQL), backfilled from the records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def amount() -> sa.Numeric[Decimal]:
    return sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "usage_daily",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cost_currency", sa.String(3), nullable=False),
        sa.Column("charge_currency", sa.String(3), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cached_input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost", amount(), nullable=False),
        sa.Column("charge", amount(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_usage_daily_client_id_clients"
        ),
        sa.PrimaryKeyConstraint(
            "client_id", "day", "cost_currency", "charge_currency", name="pk_usage_daily"
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """INSERT INTO usage_daily (client_id, day, cost_currency, charge_currency,
                    requests, input_tokens, output_tokens, cached_input_tokens,
                    cache_write_tokens, reasoning_tokens, cost, charge)
                SELECT client_id, (started_at AT TIME ZONE 'UTC')::date, cost_currency,
                    charge_currency, count(*),
                    sum(input_tokens), sum(output_tokens), sum(cached_input_tokens),
                    sum(cache_write_tokens), sum(reasoning_tokens), sum(cost), sum(charge)
                FROM usage_records
                GROUP BY 1, 2, 3, 4"""
        )


def downgrade() -> None:
    op.drop_table("usage_daily")
