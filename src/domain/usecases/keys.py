"""Use cases for client API keys: issue (secret shown once), revoke, authenticate."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from domain.access.bearer_secrets import display_prefix, generate_secret, looks_like_secret
from domain.access.keys import KEY_PREFIX, ApiKey, IssuedKey
from domain.access.ports import ApiKeyRepository, KeyHasher
from domain.errors import InvalidApiKey, NotFound, ValidationError
from domain.ids import new_id
from domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.runtime_ports import Snapshot, Snapshots
from domain.timeutil import require_aware
from domain.usecases.revocation import revoke_stored


@dataclass(frozen=True, slots=True)
class NewKey:
    client_id: str
    name: str = ""
    expires_at: datetime | None = None
    allowed_models: tuple[str, ...] = ()
    rpm_limit: int | None = None
    tpm_limit: int | None = None


class KeyUseCases:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        hasher: KeyHasher,
        lookups: Snapshots,
    ) -> None:
        self._uow = uow
        self._lookups = lookups
        self._clock = clock
        self._hasher = hasher

    async def issue(self, new: NewKey) -> IssuedKey:
        """A new key; its secret is returned here once and stored only as a digest."""
        now = self._clock.now()
        if new.expires_at is not None and require_aware(new.expires_at, "expires_at") <= now:
            raise ValidationError("a key's expiry must be in the future")
        secret = generate_secret(KEY_PREFIX)
        key = ApiKey(
            id=new_id(),
            client_id=new.client_id,
            name=new.name,
            prefix=display_prefix(secret, KEY_PREFIX),
            digest=self._hasher.digest(secret),
            created_at=now,
            expires_at=new.expires_at,
            allowed_models=new.allowed_models,
            rpm_limit=new.rpm_limit,
            tpm_limit=new.tpm_limit,
        )
        async with self._uow() as uow:
            if await uow.clients.get(new.client_id) is None:
                raise NotFound(f"no client {new.client_id}")
            for model_id in new.allowed_models:
                if await uow.catalog.get_model(model_id) is None:
                    raise ValidationError(f"unknown model in allow-list: {model_id}")
            await uow.keys.add(key)
            await uow.commit()
        return IssuedKey(secret=secret, key=key)

    async def revoke(self, key_id: str) -> ApiKey:
        return await revoke_stored(self._uow, _keys, key_id, "key", self._clock.now())

    async def set_rate_limits(self, key_id: str, rpm: int | None, tpm: int | None) -> ApiKey:
        """Requests and tokens per minute (None: no limit); effective on the next request."""
        async with self._uow() as uow:
            key = await uow.keys.get(key_id)
            if key is None:
                raise NotFound(f"no key {key_id}")
            key = replace(key, rpm_limit=rpm, tpm_limit=tpm)
            await uow.keys.update(key)
            await uow.commit()
        return key

    async def for_client(self, client_id: str) -> Sequence[ApiKey]:
        async with self._uow() as uow:
            return await uow.keys.for_client(client_id)

    async def for_clients(self, client_ids: Sequence[str]) -> Mapping[str, Sequence[ApiKey]]:
        """Each client's keys, read at once (for lists of clients)."""
        async with self._uow() as uow:
            keys = await uow.keys.for_clients(client_ids)
        found: dict[str, list[ApiKey]] = {client_id: [] for client_id in client_ids}
        for key in keys:
            found[key.client_id].append(key)
        return found

    async def authenticate(self, secret: str) -> ApiKey:
        """The usable key behind a secret, or InvalidApiKey (never saying why, never echoing)."""
        return (await self.caller(secret)).key

    async def caller(self, secret: str) -> Caller:
        """The usable key behind a secret and the configuration snapshot it was checked
        against (authorization reads the same snapshot)."""
        if not looks_like_secret(secret, KEY_PREFIX):
            raise InvalidApiKey("invalid API key")
        digest = self._hasher.digest(secret)
        snapshot = await self._lookups.snapshot()
        key = await snapshot.key(digest)
        if key is None or not hmac.compare_digest(key.digest, digest):
            raise InvalidApiKey("invalid API key")
        if not key.is_usable_at(self._clock.now()):
            raise InvalidApiKey("invalid API key")
        return Caller(key, snapshot)


@dataclass(frozen=True, slots=True)
class Caller:
    key: ApiKey
    snapshot: Snapshot


def _keys(uow: UnitOfWork) -> ApiKeyRepository:
    return uow.keys
