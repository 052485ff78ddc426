"""Clients, their plan versions, and the secrets that grant access: API keys, staff and
portal tokens (stored as hashes)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from adapters.persistence.tables.schema import CURRENCY, ID, metadata
from adapters.persistence.types import ExactDecimal, UtcDateTime

clients = Table(
    "clients",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("billing_email", String(320), nullable=True),
    Column("tax_rate", ExactDecimal(), nullable=False),
    Column("status", String(20), nullable=False),
)

plan_versions = Table(
    "plan_versions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("percent", ExactDecimal(), nullable=True),
    Column("amount", ExactDecimal(), nullable=True),
    Column("currency", String(CURRENCY), nullable=True),
    Column("effective_from", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    CheckConstraint(
        "(kind = 'percentage_margin' AND percent IS NOT NULL)"
        " OR (kind IN ('fixed_fee', 'fixed_price') AND amount IS NOT NULL"
        " AND currency IS NOT NULL)",
        name="plan_terms",
    ),
    Index(None, "client_id", "effective_from"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("prefix", String(40), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("allowed_models", Text(), nullable=False),  # a JSON array of model ids
    Column("rpm_limit", Integer(), nullable=True),
    Column("tpm_limit", Integer(), nullable=True),
    Index(None, "digest", unique=True),
    Index(None, "client_id"),
)

staff_tokens = Table(
    "staff_tokens",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("prefix", String(40), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("email", String(320), nullable=True),
    CheckConstraint("role IN ('owner', 'admin', 'viewer')", name="role"),
    Index(None, "digest", unique=True),
)

portal_tokens = Table(
    "portal_tokens",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("prefix", String(40), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Index(None, "digest", unique=True),
    Index(None, "client_id"),
)
