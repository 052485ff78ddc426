"""Parents the contract cases need (the SQL store checks references, so every case adds the
client and key its rows belong to), built with the persistence tests' builders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.clients import Client
from domain.keys import ApiKey
from domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0


async def client(uow: UnitOfWork, **overrides: Any) -> Client:
    added = builders.client(**overrides)
    await uow.clients.add(added)
    return added


async def key(uow: UnitOfWork, client_id: str, **overrides: Any) -> ApiKey:
    added = builders.key(client_id, **overrides)
    await uow.keys.add(added)
    return added


async def client_and_key(store: UnitOfWorkFactory) -> tuple[Client, ApiKey]:
    """A committed client with one key."""
    async with store() as uow:
        owner = await client(uow)
        its_key = await key(uow, owner.id)
        await uow.commit()
    return owner, its_key


def at(seconds: float) -> Any:
    """T0 plus some seconds (an aware instant)."""
    return T0 + timedelta(seconds=seconds)
