"""Staff and client-portal tokens, stored by keyed digest and display prefix; never a secret."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import insert_unless_exists
from adapters.persistence.tables.accounts import portal_tokens, staff_tokens
from domain.access.ports import PortalTokenRepository, StaffTokenRepository
from domain.access.principals import PortalToken, Role, StaffToken
from domain.errors import Conflict, NotFound


def staff_to_row(token: StaffToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "role": token.role.value,
        "prefix": token.prefix,
        "digest": token.digest,
        "created_at": token.created_at,
        "revoked_at": token.revoked_at,
        "email": token.email,
    }


def staff_from_row(row: RowMapping) -> StaffToken:
    return StaffToken(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        prefix=row["prefix"],
        digest=row["digest"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        email=row["email"],
    )


def portal_to_row(token: PortalToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "client_id": token.client_id,
        "name": token.name,
        "prefix": token.prefix,
        "digest": token.digest,
        "created_at": token.created_at,
        "revoked_at": token.revoked_at,
    }


def portal_from_row(row: RowMapping) -> PortalToken:
    return PortalToken(
        id=row["id"],
        client_id=row["client_id"],
        name=row["name"],
        prefix=row["prefix"],
        digest=row["digest"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


class SqlAlchemyStaffTokenRepository(StaffTokenRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, token: StaffToken) -> None:
        # A duplicate digest raises Conflict through the unique index.
        if not await insert_unless_exists(self._conn, staff_tokens, staff_to_row(token), ["id"]):
            raise Conflict(f"staff token {token.id} already exists")

    async def get(self, token_id: str) -> StaffToken | None:
        return await self._one(staff_tokens.c.id == token_id)

    async def by_digest(self, digest: str) -> StaffToken | None:
        return await self._one(staff_tokens.c.digest == digest)

    async def list(self) -> Sequence[StaffToken]:
        statement = select(staff_tokens).order_by(staff_tokens.c.created_at, staff_tokens.c.id)
        result = await self._conn.execute(statement)
        return [staff_from_row(row) for row in result.mappings()]

    async def update(self, token: StaffToken) -> None:
        row = staff_to_row(token)
        values = {name: row[name] for name in ("name", "role", "revoked_at")}
        statement = update(staff_tokens).where(staff_tokens.c.id == token.id).values(**values)
        result = await self._conn.execute(statement)
        if result.rowcount != 1:
            raise NotFound(f"no staff token {token.id}")

    async def _one(self, condition: Any) -> StaffToken | None:
        result = await self._conn.execute(select(staff_tokens).where(condition))
        row = result.mappings().first()
        return None if row is None else staff_from_row(row)


class SqlAlchemyPortalTokenRepository(PortalTokenRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, token: PortalToken) -> None:
        row = portal_to_row(token)
        if not await insert_unless_exists(self._conn, portal_tokens, row, ["id"]):
            raise Conflict(f"portal token {token.id} already exists")

    async def get(self, token_id: str) -> PortalToken | None:
        return await self._one(portal_tokens.c.id == token_id)

    async def by_digest(self, digest: str) -> PortalToken | None:
        return await self._one(portal_tokens.c.digest == digest)

    async def for_client(self, client_id: str) -> Sequence[PortalToken]:
        statement = (
            select(portal_tokens)
            .where(portal_tokens.c.client_id == client_id)
            .order_by(portal_tokens.c.created_at, portal_tokens.c.id)
        )
        result = await self._conn.execute(statement)
        return [portal_from_row(row) for row in result.mappings()]

    async def update(self, token: PortalToken) -> None:
        row = portal_to_row(token)
        values = {name: row[name] for name in ("name", "revoked_at")}
        statement = update(portal_tokens).where(portal_tokens.c.id == token.id).values(**values)
        result = await self._conn.execute(statement)
        if result.rowcount != 1:
            raise NotFound(f"no portal token {token.id}")

    async def _one(self, condition: Any) -> PortalToken | None:
        result = await self._conn.execute(select(portal_tokens).where(condition))
        row = result.mappings().first()
        return None if row is None else portal_from_row(row)
