"""The schema as SQLAlchemy Core tables, one module per concept, all on one MetaData
(schema.py). Alembic migrations create it; this describes it for queries (and a test checks
that the two agree). Domain classes carry no ORM base.

Importing the package registers every table, so `metadata` here is the whole schema."""

from __future__ import annotations

from adapters.persistence.tables import (  # noqa: F401  (each registers its tables on metadata)
    accounts,
    alerts,
    budgets,
    byok,
    calls,
    catalog,
    delivery,
    exchange,
    invoicing,
    payments,
    reconciliation,
    tax,
    wallets,
)
from adapters.persistence.tables.schema import metadata

__all__ = ["metadata"]
