"""Staff tokens (owner, admin, viewer) and client-portal tokens, stored by keyed digest.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_tokens",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("prefix", sa.String(40), nullable=False),
        sa.Column("digest", sa.String(128), nullable=False),
        sa.Column("created_at", instant(), nullable=False),
        sa.Column("revoked_at", instant(), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_tokens"),
        sa.CheckConstraint("role IN ('owner', 'admin', 'viewer')", name="ck_staff_tokens_role"),
    )
    op.create_index("ix_staff_tokens_digest", "staff_tokens", ["digest"], unique=True)

    op.create_table(
        "portal_tokens",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(40), nullable=False),
        sa.Column("digest", sa.String(128), nullable=False),
        sa.Column("created_at", instant(), nullable=False),
        sa.Column("revoked_at", instant(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_portal_tokens"),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_portal_tokens_client_id_clients"
        ),
    )
    op.create_index("ix_portal_tokens_digest", "portal_tokens", ["digest"], unique=True)
    op.create_index("ix_portal_tokens_client_id", "portal_tokens", ["client_id"])


def downgrade() -> None:
    op.drop_index("ix_portal_tokens_client_id", table_name="portal_tokens")
    op.drop_index("ix_portal_tokens_digest", table_name="portal_tokens")
    op.drop_table("portal_tokens")
    op.drop_index("ix_staff_tokens_digest", table_name="staff_tokens")
    op.drop_table("staff_tokens")
