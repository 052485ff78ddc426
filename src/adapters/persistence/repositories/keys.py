"""Client API keys, stored by keyed digest and display prefix; no secret is ever stored."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import bump_config_revision, insert_unless_exists
from adapters.persistence.tables.accounts import api_keys
from domain.access.keys import ApiKey
from domain.access.ports import ApiKeyRepository
from domain.errors import Conflict, NotFound


def key_to_row(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "client_id": key.client_id,
        "name": key.name,
        "prefix": key.prefix,
        "digest": key.digest,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "allowed_models": json.dumps(list(key.allowed_models)),
        "rpm_limit": key.rpm_limit,
        "tpm_limit": key.tpm_limit,
    }


def key_from_row(row: RowMapping) -> ApiKey:
    return ApiKey(
        id=row["id"],
        client_id=row["client_id"],
        name=row["name"],
        prefix=row["prefix"],
        digest=row["digest"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        allowed_models=tuple(json.loads(row["allowed_models"])),
        rpm_limit=row["rpm_limit"],
        tpm_limit=row["tpm_limit"],
    )


_MUTABLE = ("name", "expires_at", "revoked_at", "allowed_models", "rpm_limit", "tpm_limit")


class SqlAlchemyApiKeyRepository(ApiKeyRepository):
    """Keys looked up by digest on the hot path (a unique index); the digest never changes."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, key: ApiKey) -> None:
        # A second key with the same digest is a Conflict too (raised by the unique index).
        if not await insert_unless_exists(self._conn, api_keys, key_to_row(key), ["id"]):
            raise Conflict(f"API key {key.id} already exists")
        await bump_config_revision(self._conn)

    async def get(self, key_id: str) -> ApiKey | None:
        return await self._one(api_keys.c.id == key_id)

    async def by_digest(self, digest: str) -> ApiKey | None:
        return await self._one(api_keys.c.digest == digest)

    async def for_client(self, client_id: str) -> Sequence[ApiKey]:
        return await self.for_clients([client_id])

    async def for_clients(self, client_ids: Sequence[str]) -> Sequence[ApiKey]:
        if not client_ids:
            return []
        statement = (
            select(api_keys)
            .where(api_keys.c.client_id.in_(client_ids))
            .order_by(api_keys.c.created_at, api_keys.c.id)
        )
        result = await self._conn.execute(statement)
        return [key_from_row(row) for row in result.mappings()]

    async def update(self, key: ApiKey) -> None:
        row = key_to_row(key)
        values = {name: row[name] for name in _MUTABLE}
        statement = update(api_keys).where(api_keys.c.id == key.id).values(**values)
        result = await self._conn.execute(statement)
        if result.rowcount != 1:
            raise NotFound(f"no API key {key.id}")
        await bump_config_revision(self._conn)

    async def _one(self, condition: Any) -> ApiKey | None:
        result = await self._conn.execute(select(api_keys).where(condition))
        row = result.mappings().first()
        return None if row is None else key_from_row(row)
