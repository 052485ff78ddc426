"""Clients' own provider keys (BYOK): byok_credentials (encrypted), byok_settings, and on
usage_records whether a record was made with the client's key (`byok`) and its `list_cost`.
Existing records stay agency-paid (byok false, list_cost NULL).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def amount() -> sa.Numeric[Decimal]:
    return sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")


def instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "byok_credentials",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("last4", sa.String(8), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("organization", sa.String(200), nullable=True),
        sa.Column("project", sa.String(200), nullable=True),
        sa.Column("models", sa.Text(), nullable=False),
        sa.Column("created_at", instant(), nullable=False),
        sa.Column("last_used_at", instant(), nullable=True),
        sa.Column("revoked_at", instant(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_byok_credentials_client_id_clients"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_byok_credentials"),
    )
    op.create_index("ix_byok_credentials_client_id", "byok_credentials", ["client_id"])
    op.create_table(
        "byok_settings",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("fee_kind", sa.String(30), nullable=False),
        sa.Column("fee_amount", amount(), nullable=False),
        sa.Column("budget_basis", sa.String(20), nullable=False),
        sa.Column("fallback_to_agency", sa.Boolean(), nullable=False),
        sa.Column("on_revoke", sa.String(20), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_byok_settings_client_id_clients"
        ),
        sa.PrimaryKeyConstraint("client_id", name="pk_byok_settings"),
    )
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("byok", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("list_cost", amount(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("list_cost")
        batch.drop_column("byok")
    op.drop_table("byok_settings")
    op.drop_index("ix_byok_credentials_client_id", table_name="byok_credentials")
    op.drop_table("byok_credentials")
