"""Tax and billing details (docs/tax.md): the operator's tax rates, each client's tax profile
and billing details (no row: today's behaviour, `clients.tax_rate` and name + email), the
agency profile (one row, id 'agency') and what finalizing froze onto each invoice."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table, Text

from adapters.persistence.tables.schema import ID, metadata
from adapters.persistence.types import ExactDecimal, UtcDateTime

tax_rates = Table(
    "tax_rates",
    metadata,
    Column("country", String(2), primary_key=True),
    Column("region", String(100), primary_key=True),  # "" for the whole country
    Column("effective_from", Date(), primary_key=True),
    Column("percent", ExactDecimal(), nullable=False),
)

client_tax_profiles = Table(
    "client_tax_profiles",
    metadata,
    Column("client_id", String(ID), ForeignKey("clients.id"), primary_key=True),
    Column("treatment", String(20), nullable=False),
    Column("exempt_reason", Text(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)


def _address_columns() -> list[Column[str]]:
    return [
        Column("address_lines", Text(), nullable=False),  # newline-separated
        Column("city", String(100), nullable=False),
        Column("postal_code", String(20), nullable=False),
        Column("region", String(100), nullable=False),
        Column("country", String(2), nullable=False),
    ]


client_billing_details = Table(
    "client_billing_details",
    metadata,
    Column("client_id", String(ID), ForeignKey("clients.id"), primary_key=True),
    Column("legal_name", String(200), nullable=False),
    *_address_columns(),
    Column("tax_id", String(32), nullable=True),
    Column("po_reference", String(100), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

agency_profile = Table(
    "agency_profile",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("legal_name", String(200), nullable=False),
    *_address_columns(),
    Column("tax_id", String(32), nullable=True),
    Column("bank_details", Text(), nullable=False),
    Column("payment_terms_days", Integer(), nullable=True),
    Column("payment_terms_text", Text(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# Written in the finalizing transaction; the migration's triggers refuse updates and deletes.
invoice_issued_details = Table(
    "invoice_issued_details",
    metadata,
    Column("invoice_id", String(ID), ForeignKey("invoices.id"), primary_key=True),
    Column("treatment", String(20), nullable=False),
    Column("note", Text(), nullable=True),
    Column("client_details", Text(), nullable=True),  # JSON
    Column("agency_details", Text(), nullable=True),  # JSON
)
