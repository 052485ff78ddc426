"""One database transaction over every repository, as the domain's UnitOfWork port."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from types import TracebackType
from typing import Self
from weakref import WeakKeyDictionary

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence.database import READ_ONLY_OPTION, SQLITE_BUSY_TIMEOUT_MS
from adapters.persistence.outages import domain_error_for, outages_as_domain_errors
from adapters.persistence.repositories import (
    SqlAlchemyAlertRepository,
    SqlAlchemyApiKeyRepository,
    SqlAlchemyBudgetRepository,
    SqlAlchemyCatalogRepository,
    SqlAlchemyClientRepository,
    SqlAlchemyIdempotencyRepository,
    SqlAlchemyJournalRepository,
    SqlAlchemyLeaseRepository,
    SqlAlchemyLedgerRepository,
    SqlAlchemyPlanRepository,
    SqlAlchemyPortalTokenRepository,
    SqlAlchemyStaffTokenRepository,
    SqlAlchemyUsageRepository,
    SqlAlchemyWebhookRepository,
)
from adapters.persistence.repositories._sql import take_config_change
from adapters.persistence.repositories.exchange import SqlAlchemyExchangeRateRepository
from adapters.persistence.repositories.invoice_mails import SqlAlchemyInvoiceMailRepository
from adapters.persistence.repositories.invoices import SqlAlchemyInvoiceRepository
from adapters.persistence.repositories.payments import SqlAlchemyPaymentRepository
from adapters.persistence.repositories.settlements import SqlAlchemySettlementRepository
from adapters.persistence.repositories.tax import SqlAlchemyTaxRepository
from adapters.persistence.repositories.wallets import SqlAlchemyWalletRepository
from domain.ports import InvoicingUnitOfWork

_SQLITE_WRITERS: WeakKeyDictionary[object, asyncio.Lock] = WeakKeyDictionary()


def sqlite_writer_lock(engine: AsyncEngine) -> asyncio.Lock | None:
    """One in-process queue of SQLite writers per connection pool.

    SQLite allows one writer at a time and makes the others poll with growing sleeps (the busy
    timeout); queueing this process's writers on a lock hands the database over at once and in
    order. Other processes still wait through the busy timeout."""
    if engine.dialect.name != "sqlite" or engine.sync_engine.get_execution_options().get(
        READ_ONLY_OPTION
    ):
        return None
    pool = engine.sync_engine.pool
    lock = _SQLITE_WRITERS.get(pool)
    if lock is None:
        lock = _SQLITE_WRITERS[pool] = asyncio.Lock()
    return lock


class SqlAlchemyUnitOfWork(InvoicingUnitOfWork):
    """A connection and its transaction for one `async with` block.

    The transaction begins at the first statement and is rolled back on leaving the block
    unless `commit()` was called. `read_only=True` only matters on SQLite, where it takes a
    deferred (shared) lock instead of the write lock; such a unit of work must not write.
    On SQLite, write units of work of one process queue on an in-process lock for their whole
    block, so never open one inside another (it would wait, then fail). A unit of work is
    single-use and not shared between tasks.

    `on_config_change` is called after each commit of a transaction that bumped the
    configuration revision (or whose commit failed after bumping it: it may have landed), so
    this process's cached configuration is not trusted past its own change.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        read_only: bool = False,
        on_config_change: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine.execution_options(**{READ_ONLY_OPTION: True}) if read_only else engine
        self._on_config_change = on_config_change
        self._conn: AsyncConnection | None = None
        self._writer_lock = sqlite_writer_lock(self._engine)
        self._holding = False

    async def __aenter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("a unit of work is entered once")
        await self._acquire()
        try:
            async with outages_as_domain_errors():
                conn = await self._engine.connect()
        except BaseException:
            self._release()
            raise
        self._conn = conn
        self.clients = SqlAlchemyClientRepository(conn)
        self.plans = SqlAlchemyPlanRepository(conn)
        self.keys = SqlAlchemyApiKeyRepository(conn)
        self.catalog = SqlAlchemyCatalogRepository(conn)
        self.usage = SqlAlchemyUsageRepository(conn)
        self.ledger = SqlAlchemyLedgerRepository(conn)
        self.journal = SqlAlchemyJournalRepository(conn)
        self.leases = SqlAlchemyLeaseRepository(conn)
        self.idempotency = SqlAlchemyIdempotencyRepository(conn)
        self.staff_tokens = SqlAlchemyStaffTokenRepository(conn)
        self.portal_tokens = SqlAlchemyPortalTokenRepository(conn)
        self.alerts = SqlAlchemyAlertRepository(conn)
        self.budgets = SqlAlchemyBudgetRepository(conn)
        self.webhooks = SqlAlchemyWebhookRepository(conn)
        self.wallets = SqlAlchemyWalletRepository(conn)
        self.invoices = SqlAlchemyInvoiceRepository(conn)
        self.invoice_mails = SqlAlchemyInvoiceMailRepository(conn)
        self.tax = SqlAlchemyTaxRepository(conn)
        self.payments = SqlAlchemyPaymentRepository(conn)
        self.rates = SqlAlchemyExchangeRateRepository(conn)
        self.settlements = SqlAlchemySettlementRepository(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """An outage inside the block (or while closing) leaves as StoreUnavailable."""
        conn = self._connection()
        try:
            async with outages_as_domain_errors():
                try:
                    take_config_change(conn)  # rolled back: nothing changed
                    await conn.rollback()  # a no-op after commit()
                finally:
                    await conn.close()
        except Exception as cleanup:
            if exc is None or domain_error_for(cleanup) is None:
                raise
            # a connection lost mid-block: the error that matters is the block's own
        finally:
            self._release()
        found = domain_error_for(exc) if isinstance(exc, Exception) else None
        if found is not None and found is not exc:
            raise found from exc

    async def commit(self) -> None:
        conn = self._connection()
        changed = take_config_change(conn)
        try:
            async with outages_as_domain_errors():
                await conn.commit()
        finally:
            if changed and self._on_config_change is not None:
                self._on_config_change()

    async def rollback(self) -> None:
        await self._connection().rollback()

    async def _acquire(self) -> None:
        if self._writer_lock is None:
            return
        try:
            async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
                await self._writer_lock.acquire()
        except TimeoutError:
            raise OperationalError(
                "acquire the SQLite writer queue",
                None,
                TimeoutError("database is busy (is a unit of work open inside another?)"),
            ) from None
        self._holding = True

    def _release(self) -> None:
        if self._holding and self._writer_lock is not None:
            self._holding = False
            self._writer_lock.release()

    def _connection(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._conn


def unit_of_work_factory(
    engine: AsyncEngine,
    *,
    read_only: bool = False,
    on_config_change: Callable[[], None] | None = None,
) -> Callable[[], SqlAlchemyUnitOfWork]:
    """A domain.ports.UnitOfWorkFactory bound to one engine (options are applied once)."""
    bound = engine.execution_options(**{READ_ONLY_OPTION: True}) if read_only else engine
    return partial(SqlAlchemyUnitOfWork, bound, on_config_change=on_config_change)
