"""The model catalog: models, their dated price versions and the model aliases."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from adapters.persistence.tables.schema import CURRENCY, ID, metadata
from adapters.persistence.types import ExactDecimal, UtcDateTime

models = Table(
    "models",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("provider", String(100), nullable=False),
    Column("upstream_name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("max_output_tokens", Integer(), nullable=False),
    Column("context_window", Integer(), nullable=False),
    Column("fallbacks", Text(), nullable=False),  # a JSON array of model ids, in order
)

price_versions = Table(
    "price_versions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("model_id", String(200), ForeignKey("models.id"), nullable=False),
    Column("effective_from", UtcDateTime(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("input", ExactDecimal(), nullable=False),
    Column("output", ExactDecimal(), nullable=False),
    Column("cached_input", ExactDecimal(), nullable=True),
    Column("cache_write", ExactDecimal(), nullable=True),
    Column("reasoning", ExactDecimal(), nullable=True),
    UniqueConstraint("model_id", "effective_from"),
)

# Model aliases (domain/catalog/aliases.py): `client_id` empty for the agency-wide ones, so the
# pair is one unique key on every backend (NULLs are distinct in a UNIQUE constraint).
model_aliases = Table(
    "model_aliases",
    metadata,
    Column("client_id", String(ID), nullable=False),
    Column("name", String(128), nullable=False),
    Column("model_id", String(200), ForeignKey("models.id"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("client_id", "name"),
)
