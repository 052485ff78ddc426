"""In-memory fakes of every port in `domain.ports`, for unit tests of the core; one module per port.

`FakeUnitOfWorkFactory()` hands out units of work over one shared `InMemoryStore`. A unit of work
works on a private copy of the store taken when the block is entered; `commit()` publishes that
copy, and leaving the block (or `rollback()`) discards whatever was not committed. Repositories
honour the contracts written in the Protocols' docstrings (idempotent `add`/`append`/`start`
answering False on duplicates, Conflict on a second price at the same instant, ...), and
tests/integration/persistence/contracts/ runs the same cases against them and the SQL
repositories on SQLite and PostgreSQL.

| module          | holds                                                        |
|-----------------|--------------------------------------------------------------|
| `clock`         | `FrozenClock`, `FakeKeyHasher`                               |
| `store`         | `InMemoryStore` (all the data), the `Repository` base class  |
| `clients`       | clients and plan versions                                    |
| `keys`          | API keys                                                     |
| `catalog`       | models and prices                                            |
| `usage`         | usage records and totals                                     |
| `ledger`        | ledger entries                                               |
| `journal`       | the call journal and the process leases                      |
| `idempotency`   | idempotency records                                          |
| `access`        | staff and portal tokens                                      |
| `alerts`        | alerts                                                       |
| `budgets`       | budgets, counters, holds, budget leases                      |
| `webhooks`      | webhooks and deliveries                                      |
| `unit_of_work`  | `FakeUnitOfWork`, `FakeUnitOfWorkFactory`                    |
"""

from tests.fakes.access import FakePortalTokenRepository, FakeStaffTokenRepository
from tests.fakes.alerts import FakeAlertRepository
from tests.fakes.budgets import FakeBudgetRepository
from tests.fakes.catalog import FakeCatalogRepository
from tests.fakes.clients import FakeClientRepository, FakePlanRepository
from tests.fakes.clock import FakeKeyHasher, FrozenClock
from tests.fakes.idempotency import FakeIdempotencyRepository
from tests.fakes.journal import FakeJournalRepository, FakeLeaseRepository
from tests.fakes.keys import FakeApiKeyRepository
from tests.fakes.ledger import FakeLedgerRepository
from tests.fakes.store import InMemoryStore, Repository
from tests.fakes.unit_of_work import FakeUnitOfWork, FakeUnitOfWorkFactory
from tests.fakes.usage import FakeUsageRepository
from tests.fakes.webhooks import FakeWebhookRepository

__all__ = [
    "FakeAlertRepository",
    "FakeApiKeyRepository",
    "FakeBudgetRepository",
    "FakeCatalogRepository",
    "FakeClientRepository",
    "FakeIdempotencyRepository",
    "FakeJournalRepository",
    "FakeKeyHasher",
    "FakeLeaseRepository",
    "FakeLedgerRepository",
    "FakePlanRepository",
    "FakePortalTokenRepository",
    "FakeStaffTokenRepository",
    "FakeUnitOfWork",
    "FakeUnitOfWorkFactory",
    "FakeUsageRepository",
    "FakeWebhookRepository",
    "FrozenClock",
    "InMemoryStore",
    "Repository",
]
