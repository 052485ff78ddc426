"""Exchange rates (docs/currencies.md): exchange_rates (the operator's dated rates),
invoice_exchange_rates (the rates an invoice used, frozen at finalization) and
invoice_line_conversions (a converted line's amount before conversion and its exact converted
amount). Existing rows are untouched: an invoice without conversions is one whose usage was
already in its currency, as every invoice before this revision.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def amount() -> sa.Numeric[Decimal]:
    return sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")


def wide_amount() -> sa.Numeric[Decimal]:
    return sa.Numeric(60, 30).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "exchange_rates",
        sa.Column("base", sa.String(3), nullable=False),
        sa.Column("quote", sa.String(3), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("rate", amount(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("base", "quote", "effective_on", name="pk_exchange_rates"),
    )
    op.create_table(
        "invoice_exchange_rates",
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("base", sa.String(3), nullable=False),
        sa.Column("quote", sa.String(3), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("rate", amount(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_invoice_exchange_rates_invoice_id_invoices"
        ),
        sa.PrimaryKeyConstraint(
            "invoice_id", "base", "quote", "effective_on", name="pk_invoice_exchange_rates"
        ),
    )
    op.create_table(
        "invoice_line_conversions",
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_amount", amount(), nullable=False),
        sa.Column("source_currency", sa.String(3), nullable=False),
        sa.Column("exact_amount", wide_amount(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name="fk_invoice_line_conversions_invoice_id_invoices",
        ),
        sa.PrimaryKeyConstraint("invoice_id", "position", name="pk_invoice_line_conversions"),
    )


def downgrade() -> None:
    for name in ("invoice_line_conversions", "invoice_exchange_rates", "exchange_rates"):
        op.drop_table(name)
