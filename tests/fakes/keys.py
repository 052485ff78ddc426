"""API keys (`ports.ApiKeyRepository`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from domain.access.keys import ApiKey
from domain.errors import Conflict, NotFound
from tests.fakes.store import Repository


class FakeApiKeyRepository(Repository):
    async def add(self, key: ApiKey) -> None:
        if key.id in self._data.keys:
            raise Conflict(f"key {key.id} exists")
        if any(k.digest == key.digest for k in self._data.keys.values()):
            raise Conflict("a key with that digest exists")
        self._require("client", key.client_id in self._data.clients, key.client_id)
        self._data.keys[key.id] = key

    async def get(self, key_id: str) -> ApiKey | None:
        return self._data.keys.get(key_id)

    async def by_digest(self, digest: str) -> ApiKey | None:
        return next((k for k in self._data.keys.values() if k.digest == digest), None)

    async def for_client(self, client_id: str) -> Sequence[ApiKey]:
        return await self.for_clients([client_id])

    async def for_clients(self, client_ids: Sequence[str]) -> Sequence[ApiKey]:
        keys = [k for k in self._data.keys.values() if k.client_id in client_ids]
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    async def update(self, key: ApiKey) -> None:
        stored = self._data.keys.get(key.id)
        if stored is None:
            raise NotFound(f"no key {key.id}")
        self._data.keys[key.id] = replace(
            stored,
            name=key.name,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            allowed_models=key.allowed_models,
            rpm_limit=key.rpm_limit,
            tpm_limit=key.tpm_limit,
        )
