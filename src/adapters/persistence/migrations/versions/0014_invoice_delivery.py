"""Invoice delivery: the outbox of invoice emails (the invoice, dunning reminders and
suspension warnings), one row per message, unique per dedupe key.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "invoice_mails",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", instant(), nullable=False),
        sa.Column("locked_until", instant(), nullable=True),
        sa.Column("claim", sa.String(64), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("days_overdue", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=True),
        sa.Column("created_at", instant(), nullable=False),
        sa.Column("sent_at", instant(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_invoice_mails"),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_invoice_mails_invoice_id_invoices"
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_invoice_mails_client_id_clients"
        ),
    )
    op.create_index("ix_invoice_mails_dedupe_key", "invoice_mails", ["dedupe_key"], unique=True)
    op.create_index(
        "ix_invoice_mails_status_next_attempt_at", "invoice_mails", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_invoice_mails_invoice_id_created_at", "invoice_mails", ["invoice_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_invoice_mails_invoice_id_created_at", table_name="invoice_mails")
    op.drop_index("ix_invoice_mails_status_next_attempt_at", table_name="invoice_mails")
    op.drop_index("ix_invoice_mails_dedupe_key", table_name="invoice_mails")
    op.drop_table("invoice_mails")
