"""Clients and their plan versions (`ports.ClientRepository`, `ports.PlanRepository`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from domain.billing.clients import Client
from domain.billing.plans import PlanVersion
from domain.errors import Conflict, NotFound
from tests.fakes.store import Repository


class FakeClientRepository(Repository):
    async def add(self, client: Client) -> None:
        if client.id in self._data.clients:
            raise Conflict(f"client {client.id} exists")
        self._data.clients[client.id] = client

    async def get(self, client_id: str) -> Client | None:
        return self._data.clients.get(client_id)

    async def list(self) -> Sequence[Client]:
        return sorted(self._data.clients.values(), key=lambda c: (c.name, c.id))

    async def update(self, client: Client) -> None:
        stored = self._data.clients.get(client.id)
        if stored is None:
            raise NotFound(f"no client {client.id}")
        self._data.clients[client.id] = replace(
            stored,
            name=client.name,
            status=client.status,
            billing_email=client.billing_email,
            tax_rate=client.tax_rate,
        )


class FakePlanRepository(Repository):
    async def add(self, version: PlanVersion) -> None:
        if version.id in self._data.plans:
            raise Conflict(f"plan version {version.id} exists")
        self._require("client", version.client_id in self._data.clients, version.client_id)
        self._data.plans[version.id] = version

    async def history(self, client_id: str) -> Sequence[PlanVersion]:
        versions = [v for v in self._data.plans.values() if v.client_id == client_id]
        return sorted(versions, key=lambda v: (v.effective_from, v.created_at))

    async def histories(self, client_ids: Sequence[str]) -> Mapping[str, Sequence[PlanVersion]]:
        return {client_id: await self.history(client_id) for client_id in client_ids}
