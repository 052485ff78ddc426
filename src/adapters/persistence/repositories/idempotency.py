"""Client idempotency keys: a claim per (client, key), the stored answer once completed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import insert_unless_exists, upsert
from adapters.persistence.tables.calls import idempotency_keys
from domain.metering.idempotency import IdempotencyRecord, IdempotencyState
from domain.metering.ports import IdempotencyRepository

_KEY = ["client_id", "key"]


def _to_row(record: IdempotencyRecord) -> dict[str, Any]:
    return {
        "client_id": record.client_id,
        "key": record.key,
        "body_hash": record.body_hash,
        "request_id": record.request_id,
        "created_at": record.created_at,
        "state": record.state.value,
        "streamed": record.streamed,
        "status": record.status,
        "response": record.response,
    }


def _from_row(row: RowMapping) -> IdempotencyRecord:
    return IdempotencyRecord(
        client_id=row["client_id"],
        key=row["key"],
        body_hash=row["body_hash"],
        request_id=row["request_id"],
        created_at=row["created_at"],
        state=IdempotencyState(row["state"]),
        streamed=bool(row["streamed"]),
        status=row["status"],
        response=row["response"],
    )


class SqlAlchemyIdempotencyRepository(IdempotencyRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        if await insert_unless_exists(self._conn, idempotency_keys, _to_row(record), _KEY):
            return None
        return await self.get(record.client_id, record.key)

    async def get(self, client_id: str, key: str) -> IdempotencyRecord | None:
        statement = select(idempotency_keys).where(
            idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == key
        )
        row = (await self._conn.execute(statement)).mappings().first()
        return _from_row(row) if row is not None else None

    async def put(self, record: IdempotencyRecord) -> None:
        await upsert(self._conn, idempotency_keys, _to_row(record), _KEY)

    async def delete(self, client_id: str, key: str) -> None:
        await self._conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == key
            )
        )
