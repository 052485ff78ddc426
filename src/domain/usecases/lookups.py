"""What authorizing a call reads (keys, clients, plans, the catalog), cached in the process.

Every write to those tables, in any process, bumps one configuration revision in the database.
Each call reads that revision (one tiny query, shared by concurrent calls) and drops the cache
when it moved, so a revoked key or a suspended client is refused on the very next request, in
every process, while the hot path does no other reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from domain.budgets import Budget
from domain.catalog import Model, PriceHistory
from domain.clients import Client
from domain.keys import ApiKey
from domain.ports import ConfigRevision, UnitOfWork, UnitOfWorkFactory
from domain.pricing import PlanTimeline

T = TypeVar("T")


class Snapshot:
    """The cached view for one revision; misses are read from the database and kept."""

    def __init__(self, reads: UnitOfWorkFactory, revision: int | None) -> None:
        self._reads = reads
        self.revision = revision
        self._keys: dict[str, ApiKey] = {}
        self._clients: dict[str, Client] = {}
        self._models: dict[str, Model | None] = {}
        self._all_models: list[Model] | None = None
        self._prices: dict[str, PriceHistory] = {}
        self._timelines: dict[str, PlanTimeline] = {}
        self._budgets: dict[str, Budget] | None = None

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
        if model_id not in self._models:
            models = {m.id: m for m in await self.models()}
            self._models[model_id] = models.get(model_id)
        return self._models[model_id]

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
            stored = await self._load(lambda uow: uow.budgets.all())
            self._budgets = {budget.scope: budget for budget in stored}
        return self._budgets


class Lookups:
    def __init__(self, reads: UnitOfWorkFactory, revision: ConfigRevision | None = None) -> None:
        """Without a revision source nothing is cached (every call reads the database)."""
        self._reads = reads
        self._revision = revision
        self._snapshot = Snapshot(reads, None)

    async def snapshot(self) -> Snapshot:
        if self._revision is None:
            return Snapshot(self._reads, None)
        current = await self._revision.current()
        if current != self._snapshot.revision:
            self._snapshot = Snapshot(self._reads, current)
        return self._snapshot
