"""What authorizing a call reads (keys, clients, plans, the catalog, budgets), cached in the
process.

Every write to those tables, in any process, bumps one configuration revision in the database,
and the cache is dropped when it moved. A serving process checks the revision in the background
(RevisionWatch: one read per interval for the whole process), so a call reads nothing in the
steady state. A revoked key or a suspended client is refused on the very next request in the
process that made the change (its commit marks the last check stale), and within a second in
every other process (no check older than that is trusted; a call then reads the revision itself).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from domain.access.keys import ApiKey
from domain.billing.clients import Client
from domain.billing.exchange import RateBook
from domain.billing.plans import PlanTimeline
from domain.budgets.limits import Budget
from domain.catalog.aliases import AliasTable
from domain.catalog.models import Model, PriceHistory
from domain.ports import ConfigRevision, UnitOfWork, UnitOfWorkFactory
from domain.runtime_ports import Snapshot, Snapshots

T = TypeVar("T")

log = logging.getLogger("bizgraph.lookups")

# How old a background check may be and still answer for the revision: the bound on how late
# another process's change (a revocation, a suspension) reaches this one.
TRUSTED_FOR_SECONDS = 1.0


class CachedSnapshot(Snapshot):
    """The cached view for one revision; misses are read from the database and kept."""

    def __init__(self, reads: UnitOfWorkFactory, revision: int | None) -> None:
        self._reads = reads
        self.revision = revision
        self._keys: dict[str, ApiKey] = {}
        self._clients: dict[str, Client] = {}
        self._models: dict[str, Model] | None = None  # every model by id, once read
        self._all_models: list[Model] | None = None
        self._prices: dict[str, PriceHistory] = {}
        self._timelines: dict[str, PlanTimeline] = {}
        self._budgets: dict[str, Budget] | None = None
        self._aliases: AliasTable | None = None
        self._rates: RateBook | None = None

    async def _load(self, read: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        async with self._reads() as uow:
            return await read(uow)

    async def key(self, digest: str) -> ApiKey | None:
        if digest not in self._keys:
            key = await self._load(lambda uow: uow.keys.by_digest(digest))
            if key is None:
                return None  # unknown digests are not cached: guesses must not fill memory
            self._keys[digest] = key
        return self._keys[digest]

    async def client(self, client_id: str) -> Client | None:
        if client_id not in self._clients:
            client = await self._load(lambda uow: uow.clients.get(client_id))
            if client is None:
                return None
            self._clients[client_id] = client
        return self._clients[client_id]

    async def model(self, model_id: str) -> Model | None:
        """Unknown names are not kept: the names a caller sends must not fill memory."""
        if self._models is None:
            self._models = {m.id: m for m in await self.models()}
        return self._models.get(model_id)

    async def models(self) -> Sequence[Model]:
        if self._all_models is None:
            self._all_models = list(await self._load(lambda uow: uow.catalog.models()))
        return self._all_models

    async def prices(self, model_id: str) -> PriceHistory:
        if model_id not in self._prices:
            self._prices[model_id] = await self._load(lambda uow: uow.catalog.prices(model_id))
        return self._prices[model_id]

    async def plans(self, client_id: str) -> PlanTimeline:
        if client_id not in self._timelines:
            history = await self._load(lambda uow: uow.plans.history(client_id))
            self._timelines[client_id] = PlanTimeline(history)
        return self._timelines[client_id]

    async def budgets(self) -> Mapping[str, Budget]:
        """Every budget by scope: one read per revision, so calls of clients without a budget
        cost no query at all."""
        if self._budgets is None:
            stored = await self._load(_every_budget)
            self._budgets = {budget.scope: budget for budget in stored}
        return self._budgets

    async def aliases(self) -> AliasTable:
        """Every model alias: one read per revision, so resolving one costs no query."""
        if self._aliases is None:
            self._aliases = AliasTable.of(await self._load(lambda uow: uow.catalog.aliases()))
        return self._aliases

    async def rates(self) -> RateBook:
        """Every exchange rate: one read per revision (setting a rate bumps it), read only by
        calls whose budgets are in another currency than the price's."""
        if self._rates is None:
            self._rates = await self._load(lambda uow: uow.rates.book())
        return self._rates


class Lookups(Snapshots):
    def __init__(self, reads: UnitOfWorkFactory, revision: ConfigRevision | None = None) -> None:
        """`revision` is usually a RevisionWatch; without one nothing is cached (every call
        reads the database)."""
        self._reads = reads
        self._revision = revision
        self._snapshot = CachedSnapshot(reads, None)

    async def snapshot(self) -> CachedSnapshot:
        if self._revision is None:
            return CachedSnapshot(self._reads, None)
        current = await self._revision.current()
        if current != self._snapshot.revision:
            self._snapshot = CachedSnapshot(self._reads, current)
        return self._snapshot

    def uncached(self) -> CachedSnapshot:
        return CachedSnapshot(self._reads, None)


@dataclass(frozen=True, slots=True)
class _Check:
    revision: int
    started: float  # monotonic time the read was asked for: it saw every commit before that
    changes: int  # this process's change count when it was asked for


class RevisionWatch(ConfigRevision):
    """The configuration revision, checked in the background instead of on every call.

    `run()` checks it every `interval` seconds. `current()` answers from the last check while
    that check is younger than `trusted_for` and no configuration change was committed by this
    process since it began (`changed()`); otherwise it reads the revision itself, as every call
    did before: after a local change until the next check, and whenever the checks stall or
    fail (database down, starved event loop), so an outage fails the call instead of serving a
    stale view. Without `run()` every call reads.
    """

    def __init__(
        self,
        source: ConfigRevision,
        *,
        trusted_for: float = TRUSTED_FOR_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._trusted_for = trusted_for
        self._monotonic = monotonic
        self._changes = 0
        self._checked: _Check | None = None

    def changed(self) -> None:
        """This process committed a configuration change: no check begun before it counts.
        Safe from any thread (one integer rebinding; a check stores the count it began with)."""
        self._changes += 1

    async def current(self) -> int:
        checked = self._checked
        if (
            checked is not None
            and checked.changes == self._changes
            and self._monotonic() - checked.started < self._trusted_for
        ):
            return checked.revision
        return await self._source.current()

    async def check(self) -> int:
        """Read the revision now and keep it for `current()`."""
        changes, started = self._changes, self._monotonic()
        revision = await self._source.current()
        if self._checked is None or self._checked.started <= started:
            self._checked = _Check(revision, started, changes)
        return revision

    async def run(self, interval: float) -> None:
        """Check every `interval` seconds until cancelled. A failing check is logged when the
        checks start failing and when they recover, not every interval."""
        failing = False
        while True:
            try:
                await self.check()
            except Exception:
                if not failing:
                    log.warning(
                        "cannot check the configuration revision: calls read it", exc_info=True
                    )
                failing = True
            else:
                if failing:
                    log.info("the configuration revision is checked in the background again")
                failing = False
            await asyncio.sleep(interval)


async def _every_budget(uow: UnitOfWork) -> list[Budget]:
    """The budgets, and the wallets of prepaid clients (held on like hard budgets)."""
    return [*await uow.budgets.all(), *await uow.wallets.budgets()]
