"""Tax and billing details (docs/tax.md): tax_rates, client_tax_profiles,
client_billing_details, agency_profile and invoice_issued_details (immutable once written).
Existing rows are untouched: a client without a tax profile keeps its custom percent, and an
invoice without issued details renders as before.

Revision ID: 0016
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def amount() -> sa.Numeric[Decimal]:
    return sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")


def instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def address() -> list[sa.Column[str]]:
    return [
        sa.Column("address_lines", sa.Text(), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("postal_code", sa.String(20), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "tax_rates",
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("percent", amount(), nullable=False),
        sa.PrimaryKeyConstraint("country", "region", "effective_from", name="pk_tax_rates"),
    )
    op.create_table(
        "client_tax_profiles",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("treatment", sa.String(20), nullable=False),
        sa.Column("exempt_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_client_tax_profiles_client_id_clients"
        ),
        sa.PrimaryKeyConstraint("client_id", name="pk_client_tax_profiles"),
    )
    op.create_table(
        "client_billing_details",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("legal_name", sa.String(200), nullable=False),
        *address(),
        sa.Column("tax_id", sa.String(32), nullable=True),
        sa.Column("po_reference", sa.String(100), nullable=True),
        sa.Column("updated_at", instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_client_billing_details_client_id_clients"
        ),
        sa.PrimaryKeyConstraint("client_id", name="pk_client_billing_details"),
    )
    op.create_table(
        "agency_profile",
        sa.Column("id", sa.String(20), nullable=False),
        sa.Column("legal_name", sa.String(200), nullable=False),
        *address(),
        sa.Column("tax_id", sa.String(32), nullable=True),
        sa.Column("bank_details", sa.Text(), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=True),
        sa.Column("payment_terms_text", sa.Text(), nullable=False),
        sa.Column("updated_at", instant(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agency_profile"),
    )
    op.create_table(
        "invoice_issued_details",
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("treatment", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("client_details", sa.Text(), nullable=True),
        sa.Column("agency_details", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_invoice_issued_details_invoice_id_invoices"
        ),
        sa.PrimaryKeyConstraint("invoice_id", name="pk_invoice_issued_details"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """CREATE FUNCTION bizgraph_issued_details_guard() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'the issued details of an invoice cannot be changed'
                    USING ERRCODE = 'integrity_constraint_violation';
            END $$ LANGUAGE plpgsql"""
        )
        op.execute(
            """CREATE TRIGGER invoice_issued_details_immutable BEFORE UPDATE OR DELETE
            ON invoice_issued_details FOR EACH ROW
            EXECUTE FUNCTION bizgraph_issued_details_guard()"""
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"""CREATE TRIGGER invoice_issued_details_no_{event.lower()}
                BEFORE {event} ON invoice_issued_details
                BEGIN SELECT RAISE(ABORT, 'the issued details of an invoice cannot be changed');
                END"""
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER invoice_issued_details_immutable ON invoice_issued_details")
        op.execute("DROP FUNCTION bizgraph_issued_details_guard()")
    for name in (
        "invoice_issued_details",
        "agency_profile",
        "client_billing_details",
        "client_tax_profiles",
        "tax_rates",
    ):
        op.drop_table(name)
