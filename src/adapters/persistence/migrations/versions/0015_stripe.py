"""Payments through Stripe: stripe_customers, payment_links, payments_received and
processed_events (docs/payments.md).

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REF = 255


def amount() -> sa.Numeric[Decimal]:
    return sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")


def instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stripe_customers",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("customer_ref", sa.String(REF), nullable=False),
        sa.Column("created_at", instant(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_stripe_customers"),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_stripe_customers_client_id_clients"
        ),
        sa.UniqueConstraint("customer_ref", name="uq_stripe_customers_customer_ref"),
    )
    op.create_table(
        "payment_links",
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("session_ref", sa.String(REF), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("expires_at", instant(), nullable=False),
        sa.Column("created_at", instant(), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", name="pk_payment_links"),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_payment_links_invoice_id_invoices"
        ),
    )
    op.create_table(
        "payments_received",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("movement", sa.String(20), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=True),
        sa.Column("invoice_id", sa.String(64), nullable=True),
        sa.Column("payment_ref", sa.String(REF), nullable=False),
        sa.Column("charge_ref", sa.String(REF), nullable=True),
        sa.Column("dedupe", sa.String(REF + 30), nullable=False),
        sa.Column("amount", amount(), nullable=False),
        sa.Column("applied", amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("occurred_at", instant(), nullable=False),
        sa.Column("event_id", sa.String(REF), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payments_received"),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_payments_received_client_id_clients"
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_payments_received_invoice_id_invoices"
        ),
        sa.UniqueConstraint("movement", "dedupe", name="uq_payments_received_movement_dedupe"),
    )
    op.create_index("ix_payments_received_invoice_id", "payments_received", ["invoice_id"])
    op.create_index("ix_payments_received_payment_ref", "payments_received", ["payment_ref"])
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(REF), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("processed_at", instant(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_processed_events"),
    )


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_index("ix_payments_received_payment_ref", table_name="payments_received")
    op.drop_index("ix_payments_received_invoice_id", table_name="payments_received")
    op.drop_table("payments_received")
    op.drop_table("payment_links")
    op.drop_table("stripe_customers")
