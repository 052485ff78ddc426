"""Clients' own provider credentials (encrypted) and their BYOK settings (docs/byok.md)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, LargeBinary, String, Table, Text

from adapters.persistence.tables.schema import ID, metadata
from adapters.persistence.types import ExactDecimal, UtcDateTime

# A removed credential keeps its row with the ciphertext wiped (empty): the models it covered
# are then refused or served by the agency's key, as the client's settings say.
byok_credentials = Table(
    "byok_credentials",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("provider", String(100), nullable=False),
    Column("ciphertext", LargeBinary(), nullable=False),
    Column("key_id", String(40), nullable=False),
    Column("last4", String(8), nullable=False),
    Column("base_url", Text(), nullable=True),
    Column("organization", String(200), nullable=True),
    Column("project", String(200), nullable=True),
    Column("models", Text(), nullable=False),  # space-separated model ids; empty: all
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_used_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Index(None, "client_id"),
)

byok_settings = Table(
    "byok_settings",
    metadata,
    Column("client_id", String(ID), ForeignKey("clients.id"), primary_key=True),
    Column("fee_kind", String(30), nullable=False),
    Column("fee_amount", ExactDecimal(), nullable=False),
    Column("budget_basis", String(20), nullable=False),
    Column("fallback_to_agency", Boolean(), nullable=False),
    Column("on_revoke", String(20), nullable=False),
)
