"""Ports for billing: the stores of clients and of their plan versions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from domain.billing.clients import Client
from domain.billing.plans import PlanVersion


class ClientRepository(Protocol):
    async def add(self, client: Client) -> None: ...
    async def get(self, client_id: str) -> Client | None: ...
    async def list(self) -> Sequence[Client]: ...
    async def update(self, client: Client) -> None:
        """Overwrite the mutable fields (name, status, billing details) of a stored client."""
        ...


class PlanRepository(Protocol):
    async def add(self, version: PlanVersion) -> None: ...
    async def history(self, client_id: str) -> Sequence[PlanVersion]:
        """Every plan version of a client, in effective order."""
        ...

    async def histories(self, client_ids: Sequence[str]) -> Mapping[str, Sequence[PlanVersion]]:
        """The plan histories of several clients in one read, each in effective order; a
        client with no version maps to an empty sequence."""
        ...
