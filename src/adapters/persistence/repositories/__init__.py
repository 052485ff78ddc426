"""SQLAlchemy Core repositories, one module per aggregate; each implements a domain port."""

from adapters.persistence.repositories.access import (
    SqlAlchemyPortalTokenRepository,
    SqlAlchemyStaffTokenRepository,
)
from adapters.persistence.repositories.alerts import SqlAlchemyAlertRepository
from adapters.persistence.repositories.budgets import SqlAlchemyBudgetRepository
from adapters.persistence.repositories.catalog import SqlAlchemyCatalogRepository
from adapters.persistence.repositories.clients import (
    SqlAlchemyClientRepository,
    SqlAlchemyPlanRepository,
)
from adapters.persistence.repositories.idempotency import SqlAlchemyIdempotencyRepository
from adapters.persistence.repositories.journal import (
    SqlAlchemyJournalRepository,
    SqlAlchemyLeaseRepository,
)
from adapters.persistence.repositories.keys import SqlAlchemyApiKeyRepository
from adapters.persistence.repositories.ledger import SqlAlchemyLedgerRepository
from adapters.persistence.repositories.usage import SqlAlchemyUsageRepository
from adapters.persistence.repositories.webhooks import SqlAlchemyWebhookRepository

__all__ = [
    "SqlAlchemyAlertRepository",
    "SqlAlchemyApiKeyRepository",
    "SqlAlchemyBudgetRepository",
    "SqlAlchemyCatalogRepository",
    "SqlAlchemyClientRepository",
    "SqlAlchemyIdempotencyRepository",
    "SqlAlchemyJournalRepository",
    "SqlAlchemyLeaseRepository",
    "SqlAlchemyLedgerRepository",
    "SqlAlchemyPlanRepository",
    "SqlAlchemyPortalTokenRepository",
    "SqlAlchemyStaffTokenRepository",
    "SqlAlchemyUsageRepository",
    "SqlAlchemyWebhookRepository",
]
