"""The one MetaData every table of the schema is registered on, its naming convention, and the
column helpers the tables share; and `revisions`, the named counters every area moves."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, String, Table

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def token_columns() -> list[Column[int]]:
    """Token counts by class (domain.metering.tokens), in usage records and in the daily rollup."""
    names = ("input", "output", "cached_input", "cache_write", "reasoning")
    return [Column(f"{name}_tokens", BigInteger(), nullable=False) for name in names]


ID = 64  # identifiers are UUIDs or short opaque strings
CURRENCY = 3

# Named counters, one row each: `config` moves on every write to keys, clients, plans or the
# catalog, so processes caching those can tell, with one tiny read, that their cache is stale;
# "INV-2026", "CN-2026", ... are the gap-free document numbers (taken in the finalizing
# transaction).
revisions = Table(
    "revisions",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", BigInteger(), nullable=False),
)
