"""Staff and portal tokens (`ports.StaffTokenRepository`, `ports.PortalTokenRepository`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from domain.access.principals import PortalToken, StaffToken
from domain.errors import Conflict, NotFound
from tests.fakes.store import Repository


class FakeStaffTokenRepository(Repository):
    async def add(self, token: StaffToken) -> None:
        tokens = self._data.staff_tokens
        if token.id in tokens or any(t.digest == token.digest for t in tokens.values()):
            raise Conflict(f"staff token {token.id} exists")
        tokens[token.id] = token

    async def get(self, token_id: str) -> StaffToken | None:
        return self._data.staff_tokens.get(token_id)

    async def by_digest(self, digest: str) -> StaffToken | None:
        return next((t for t in self._data.staff_tokens.values() if t.digest == digest), None)

    async def list(self) -> Sequence[StaffToken]:
        return sorted(self._data.staff_tokens.values(), key=lambda t: (t.created_at, t.id))

    async def update(self, token: StaffToken) -> None:
        stored = self._data.staff_tokens.get(token.id)
        if stored is None:
            raise NotFound(f"no staff token {token.id}")
        self._data.staff_tokens[token.id] = replace(
            stored, name=token.name, role=token.role, revoked_at=token.revoked_at
        )


class FakePortalTokenRepository(Repository):
    async def add(self, token: PortalToken) -> None:
        tokens = self._data.portal_tokens
        if token.id in tokens or any(t.digest == token.digest for t in tokens.values()):
            raise Conflict(f"portal token {token.id} exists")
        if token.client_id not in self._data.clients:
            raise NotFound(f"no client {token.client_id}")
        tokens[token.id] = token

    async def get(self, token_id: str) -> PortalToken | None:
        return self._data.portal_tokens.get(token_id)

    async def by_digest(self, digest: str) -> PortalToken | None:
        return next((t for t in self._data.portal_tokens.values() if t.digest == digest), None)

    async def for_client(self, client_id: str) -> Sequence[PortalToken]:
        tokens = [t for t in self._data.portal_tokens.values() if t.client_id == client_id]
        return sorted(tokens, key=lambda t: (t.created_at, t.id))

    async def update(self, token: PortalToken) -> None:
        stored = self._data.portal_tokens.get(token.id)
        if stored is None:
            raise NotFound(f"no portal token {token.id}")
        self._data.portal_tokens[token.id] = replace(
            stored, name=token.name, revoked_at=token.revoked_at
        )
