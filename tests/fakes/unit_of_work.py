"""The fake unit of work over one shared `InMemoryStore`, and the factory that hands them out."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from domain import ports
from domain.access import ports as access_ports
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
from tests.fakes.rates import FakeExchangeRateRepository
from tests.fakes.store import InMemoryStore
from tests.fakes.usage import FakeUsageRepository
from tests.fakes.wallets import FakeWalletRepository
from tests.fakes.webhooks import FakeWebhookRepository


class FakeUnitOfWork(ports.UnitOfWork):
    """One "transaction" over the shared store: a private working copy, published by commit."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.working = store.copy()
        self.committed = False
        self.clients = FakeClientRepository(self)
        self.plans = FakePlanRepository(self)
        self.keys = FakeApiKeyRepository(self)
        self.catalog = FakeCatalogRepository(self)
        self.usage = FakeUsageRepository(self)
        self.ledger = FakeLedgerRepository(self)
        self.journal = FakeJournalRepository(self)
        self.leases = FakeLeaseRepository(self)
        self.idempotency = FakeIdempotencyRepository(self)
        self.staff_tokens = FakeStaffTokenRepository(self)
        self.portal_tokens = FakePortalTokenRepository(self)
        self.alerts = FakeAlertRepository(self)
        self.budgets = FakeBudgetRepository(self)
        self.webhooks = FakeWebhookRepository(self)
        self.wallets = FakeWalletRepository(self)
        self.rates = FakeExchangeRateRepository(self)

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
    _hasher: access_ports.KeyHasher = FakeKeyHasher()
    _uow: ports.UnitOfWork = FakeUnitOfWork(InMemoryStore())
    _factory: ports.UnitOfWorkFactory = FakeUnitOfWorkFactory()
