"""Ports for access: the key digest, and the stores of API keys, staff tokens and portal tokens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.access.keys import ApiKey
from domain.access.principals import PortalToken, StaffToken


class KeyHasher(Protocol):
    def digest(self, secret: str) -> str:
        """A keyed, deterministic digest of a secret (hex); the same secret always maps to the
        same digest under one server secret, and the digest reveals nothing of the secret."""
        ...


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...
    async def get(self, key_id: str) -> ApiKey | None: ...
    async def by_digest(self, digest: str) -> ApiKey | None: ...
    async def for_client(self, client_id: str) -> Sequence[ApiKey]: ...
    async def for_clients(self, client_ids: Sequence[str]) -> Sequence[ApiKey]:
        """The keys of all those clients in one read, oldest first."""
        ...

    async def update(self, key: ApiKey) -> None:
        """Overwrite revocation, expiry, name, allow-list and limits of a stored key."""
        ...


class StaffTokenRepository(Protocol):
    async def add(self, token: StaffToken) -> None:
        """Store a token; a second token with the same id or digest is a Conflict."""
        ...

    async def get(self, token_id: str) -> StaffToken | None: ...
    async def by_digest(self, digest: str) -> StaffToken | None: ...
    async def list(self) -> Sequence[StaffToken]:
        """Every staff token, oldest first."""
        ...

    async def update(self, token: StaffToken) -> None:
        """Overwrite name, role and revocation of a stored token (NotFound otherwise)."""
        ...


class PortalTokenRepository(Protocol):
    async def add(self, token: PortalToken) -> None:
        """Store a token; a second token with the same id or digest is a Conflict, an unknown
        client is NotFound."""
        ...

    async def get(self, token_id: str) -> PortalToken | None: ...
    async def by_digest(self, digest: str) -> PortalToken | None: ...
    async def for_client(self, client_id: str) -> Sequence[PortalToken]:
        """The client's portal tokens, oldest first."""
        ...

    async def update(self, token: PortalToken) -> None:
        """Overwrite name and revocation of a stored token (NotFound otherwise)."""
        ...
