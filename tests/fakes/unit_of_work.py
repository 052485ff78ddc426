"""The fake unit of work over one shared `InMemoryStore`, and the factory that hands them out."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from domain import ports
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
from tests.fakes.store import InMemoryStore
from tests.fakes.usage import FakeUsageRepository
from tests.fakes.webhooks import FakeWebhookRepository


class FakeUnitOfWork:
    """One "transaction" over the shared store: a private working copy, published by commit."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.working = store.copy()
        self.committed = False
        self.clients: ports.ClientRepository = FakeClientRepository(self)
        self.plans: ports.PlanRepository = FakePlanRepository(self)
        self.keys: ports.ApiKeyRepository = FakeApiKeyRepository(self)
        self.catalog: ports.CatalogRepository = FakeCatalogRepository(self)
        self.usage: ports.UsageRepository = FakeUsageRepository(self)
        self.ledger: ports.LedgerRepository = FakeLedgerRepository(self)
        self.journal: ports.JournalRepository = FakeJournalRepository(self)
        self.leases: ports.LeaseRepository = FakeLeaseRepository(self)
        self.idempotency: ports.IdempotencyRepository = FakeIdempotencyRepository(self)
        self.staff_tokens: ports.StaffTokenRepository = FakeStaffTokenRepository(self)
        self.portal_tokens: ports.PortalTokenRepository = FakePortalTokenRepository(self)
        self.alerts: ports.AlertRepository = FakeAlertRepository(self)
        self.budgets: ports.BudgetRepository = FakeBudgetRepository(self)
        self.webhooks: ports.WebhookRepository = FakeWebhookRepository(self)

    async def __aenter__(self) -> Self:
        self.working = self.store.copy()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.working = self.store.copy()  # whatever was not committed is gone

    async def commit(self) -> None:
        self.store.load(self.working)
        self.committed = True

    async def rollback(self) -> None:
        """Discard what was not committed (a no-op right after a commit)."""
        self.working = self.store.copy()


class FakeUnitOfWorkFactory:
    """Every unit of work it makes shares `store`; `made` keeps them for assertions."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()
        self.made: list[FakeUnitOfWork] = []

    def __call__(self) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.store)
        self.made.append(uow)
        return uow


if TYPE_CHECKING:  # mypy checks that the fakes satisfy the ports
    _clock: ports.Clock = FrozenClock()
    _hasher: ports.KeyHasher = FakeKeyHasher()
    _uow: ports.UnitOfWork = FakeUnitOfWork(InMemoryStore())
    _factory: ports.UnitOfWorkFactory = FakeUnitOfWorkFactory()
