"""Parents the contract cases need (the SQL store checks references, so every case adds the
client and key its rows belong to), built with the persistence tests' builders."""

from __future__ import annotations

from typing import Any

from domain.access.keys import ApiKey
from domain.billing.clients import Client
from domain.ports import UnitOfWork
from tests.integration.persistence import builders


async def client(uow: UnitOfWork, **overrides: Any) -> Client:
    added = builders.client(**overrides)
    await uow.clients.add(added)
    return added


async def key(uow: UnitOfWork, client_id: str, **overrides: Any) -> ApiKey:
    added = builders.key(client_id, **overrides)
    await uow.keys.add(added)
    return added
