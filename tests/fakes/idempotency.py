"""Idempotency records (`ports.IdempotencyRepository`)."""

from __future__ import annotations

from domain.metering.idempotency import IdempotencyRecord
from tests.fakes.store import Repository


class FakeIdempotencyRepository(Repository):
    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        existing = self._data.idempotency.get((record.client_id, record.key))
        if existing is None:
            self._data.idempotency[(record.client_id, record.key)] = record
        return existing

    async def get(self, client_id: str, key: str) -> IdempotencyRecord | None:
        return self._data.idempotency.get((client_id, key))

    async def put(self, record: IdempotencyRecord) -> None:
        self._data.idempotency[(record.client_id, record.key)] = record

    async def delete(self, client_id: str, key: str) -> None:
        self._data.idempotency.pop((client_id, key), None)
