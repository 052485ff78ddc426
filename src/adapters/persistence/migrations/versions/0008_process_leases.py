"""Process leases for crash recovery in seconds: one row per serving process, renewed by its
heartbeat; journal rows learn their owner and how much a stream has relayed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "process_leases",
        sa.Column("process_id", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("process_id", name="pk_process_leases"),
    )
    with op.batch_alter_table("call_journal") as batch:
        batch.add_column(sa.Column("owner", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("prompt_chars", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("output_chars", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("call_journal") as batch:
        batch.drop_column("output_chars")
        batch.drop_column("prompt_chars")
        batch.drop_column("owner")
    op.drop_table("process_leases")
