"""Invoices, their lines, credit notes, gap-free counters, closed periods; usage records learn
which invoice took them. Triggers make finalized invoices immutable on both backends.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What a finalized invoice may still change: its status (to paid or void) and when/why.
FROZEN = [
    "id",
    "client_id",
    "period",
    "period_start",
    "period_end",
    "number",
    "currency",
    "tax_rate",
    "subtotal",
    "tax",
    "total",
    "issued_at",
    "due_at",
    "bill_to_name",
    "bill_to_email",
    "early",
    "created_at",
]
TOKENS = ("input", "output", "cached_input", "cache_write", "reasoning")


def amount() -> sa.Numeric[Decimal]:
    return sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")


def instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _tables()
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("invoice_id", sa.String(64), nullable=True))
        batch.create_index("ix_usage_records_invoice_id", ["invoice_id"])
    if op.get_bind().dialect.name == "postgresql":
        _postgres_guards()
    else:
        _sqlite_guards()


def _tables() -> None:
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("period_start", instant(), nullable=False),
        sa.Column("period_end", instant(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("number", sa.String(40), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("tax_rate", amount(), nullable=True),
        sa.Column("subtotal", amount(), nullable=True),
        sa.Column("tax", amount(), nullable=True),
        sa.Column("total", amount(), nullable=True),
        sa.Column("issued_at", instant(), nullable=True),
        sa.Column("due_at", instant(), nullable=True),
        sa.Column("bill_to_name", sa.String(200), nullable=True),
        sa.Column("bill_to_email", sa.String(320), nullable=True),
        sa.Column("early", sa.Boolean(), nullable=False),
        sa.Column("created_at", instant(), nullable=False),
        sa.Column("paid_at", instant(), nullable=True),
        sa.Column("voided_at", instant(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'finalized', 'paid', 'void')", name="ck_invoices_status"
        ),
        sa.CheckConstraint(
            "status = 'draft' OR (number IS NOT NULL AND total IS NOT NULL)",
            name="ck_invoices_finalized_terms",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_invoices_client_id_clients"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
    )
    op.create_index("ix_invoices_number", "invoices", ["number"], unique=True)
    op.create_index(
        "uq_invoices_client_id_period_live",
        "invoices",
        ["client_id", "period"],
        unique=True,
        sqlite_where=sa.text("status <> 'void'"),
        postgresql_where=sa.text("status <> 'void'"),
    )
    op.create_index("ix_invoices_period_status", "invoices", ["period", "status"])
    op.create_table(
        "invoice_lines",
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=True),
        sa.Column("usage_period", sa.String(7), nullable=True),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        *(sa.Column(f"{name}_tokens", sa.BigInteger(), nullable=False) for name in TOKENS),
        sa.Column("amount", amount(), nullable=False),
        sa.Column("exact_amount", amount(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_invoice_lines_invoice_id_invoices"
        ),
        sa.PrimaryKeyConstraint("invoice_id", "position", name="pk_invoice_lines"),
    )
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("amount", amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("issued_at", instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_credit_notes_invoice_id_invoices"
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_credit_notes_client_id_clients"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_credit_notes"),
    )
    op.create_index("ix_credit_notes_number", "credit_notes", ["number"], unique=True)
    op.create_index("ix_credit_notes_invoice_id", "credit_notes", ["invoice_id"])
    op.create_table(
        "account_credits",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("amount", amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_account_credits_client_id_clients"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_account_credits"),
    )
    op.create_index("ix_account_credits_client_id", "account_credits", ["client_id"])
    op.create_table(
        "credit_uses",
        sa.Column("credit_id", sa.String(64), nullable=False),
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("amount", amount(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_id"], ["account_credits.id"], name="fk_credit_uses_credit_id_account_credits"
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_credit_uses_invoice_id_invoices"
        ),
        sa.PrimaryKeyConstraint("credit_id", "invoice_id", name="pk_credit_uses"),
    )
    op.create_table(
        "closed_periods",
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("closed_at", instant(), nullable=False),
        sa.Column("early", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("period", name="pk_closed_periods"),
    )


def _postgres_guards() -> None:
    unchanged = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in FROZEN)
    op.execute(
        f"""CREATE FUNCTION bizgraph_invoice_guard() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF OLD.status <> 'draft' THEN
                    RAISE EXCEPTION 'invoice %: a finalized invoice cannot be deleted', OLD.id
                        USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                RETURN OLD;
            END IF;
            IF OLD.status = 'draft' THEN
                RETURN NEW;
            END IF;
            IF OLD.status = 'finalized' AND NEW.status IN ('paid', 'void') AND {unchanged} THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'invoice %: a finalized invoice cannot be changed', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END $$ LANGUAGE plpgsql"""
    )
    op.execute(
        """CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices
        FOR EACH ROW EXECUTE FUNCTION bizgraph_invoice_guard()"""
    )
    op.execute(
        """CREATE FUNCTION bizgraph_invoice_line_guard() RETURNS trigger AS $$
        DECLARE
            parent TEXT;
        BEGIN
            IF TG_OP = 'INSERT' THEN
                SELECT status INTO parent FROM invoices WHERE id = NEW.invoice_id;
            ELSE
                SELECT status INTO parent FROM invoices WHERE id = OLD.invoice_id;
            END IF;
            IF parent IS DISTINCT FROM 'draft' THEN
                RAISE EXCEPTION 'the lines of a finalized invoice cannot be changed'
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql"""
    )
    op.execute(
        """CREATE TRIGGER invoice_lines_immutable BEFORE INSERT OR UPDATE OR DELETE
        ON invoice_lines FOR EACH ROW EXECUTE FUNCTION bizgraph_invoice_line_guard()"""
    )
    op.execute(
        """CREATE FUNCTION bizgraph_credit_note_guard() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'credit notes cannot be changed or deleted'
                USING ERRCODE = 'integrity_constraint_violation';
        END $$ LANGUAGE plpgsql"""
    )
    op.execute(
        """CREATE TRIGGER credit_notes_immutable BEFORE UPDATE OR DELETE ON credit_notes
        FOR EACH ROW EXECUTE FUNCTION bizgraph_credit_note_guard()"""
    )


def _sqlite_guards() -> None:
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in FROZEN)
    refuse = "BEGIN SELECT RAISE(ABORT, '{}'); END"
    op.execute(
        f"""CREATE TRIGGER invoices_immutable BEFORE UPDATE ON invoices
        WHEN OLD.status <> 'draft' AND NOT (
            OLD.status = 'finalized' AND NEW.status IN ('paid', 'void') AND {unchanged})
        {refuse.format("a finalized invoice cannot be changed")}"""
    )
    op.execute(
        f"""CREATE TRIGGER invoices_undeletable BEFORE DELETE ON invoices
        WHEN OLD.status <> 'draft'
        {refuse.format("a finalized invoice cannot be deleted")}"""
    )
    lines_refusal = refuse.format("the lines of a finalized invoice cannot be changed")
    for event, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")):
        op.execute(
            f"""CREATE TRIGGER invoice_lines_immutable_{event.lower()}
            BEFORE {event} ON invoice_lines
            WHEN (SELECT status FROM invoices WHERE id = {row}.invoice_id) IS NOT 'draft'
            {lines_refusal}"""  # noqa: S608 (constant text)
        )
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"""CREATE TRIGGER credit_notes_immutable_{event.lower()}
            BEFORE {event} ON credit_notes
            {refuse.format("credit notes cannot be changed or deleted")}"""
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS invoices_immutable ON invoices")
        op.execute("DROP TRIGGER IF EXISTS invoice_lines_immutable ON invoice_lines")
        op.execute("DROP TRIGGER IF EXISTS credit_notes_immutable ON credit_notes")
        op.execute("DROP FUNCTION IF EXISTS bizgraph_invoice_guard()")
        op.execute("DROP FUNCTION IF EXISTS bizgraph_invoice_line_guard()")
        op.execute("DROP FUNCTION IF EXISTS bizgraph_credit_note_guard()")
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_index("ix_usage_records_invoice_id")
        batch.drop_column("invoice_id")
    for table in (
        "credit_uses",
        "account_credits",
        "closed_periods",
        "credit_notes",
        "invoice_lines",
    ):
        op.drop_table(table)
    op.drop_table("invoices")
