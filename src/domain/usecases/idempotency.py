"""Use cases behind the `Idempotency-Key` header."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.errors import ValidationError
from domain.metering.idempotency import (
    MAX_KEY_LENGTH,
    IdempotencyConflict,
    IdempotencyRecord,
    IdempotencyState,
)
from domain.ports import Clock, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    response: bytes
    request_id: str


class IdempotencyUseCases:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, stale_after: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        # An in-flight claim older than this belongs to a call that can no longer be running
        # (longer than the total deadline plus the drain): a crash; it may be taken over.
        self._stale_after = stale_after

    async def claim(
        self, client_id: str, key: str, body_hash: str, request_id: str, streamed: bool
    ) -> Replay | None:
        """Claim the key for this call, or return the stored answer to replay. Raises
        IdempotencyConflict when the key is busy or was used with another body."""
        _check_key(key)
        now = self._clock.now()
        record = IdempotencyRecord(client_id, key, body_hash, request_id, now, streamed=streamed)
        async with self._uow() as uow:
            existing = await uow.idempotency.claim(record)
            if existing is not None and (existing.expired_at(now) or self._stale(existing, now)):
                await uow.idempotency.put(record)  # an old or abandoned claim is taken over
                existing = None
            await uow.commit()
        if existing is None:
            return None
        if existing.body_hash != body_hash:
            raise IdempotencyConflict(
                "this Idempotency-Key was used with a different request body", "body_mismatch"
            )
        if existing.state is IdempotencyState.IN_FLIGHT:
            raise IdempotencyConflict(
                "a request with this Idempotency-Key is still in progress", "in_flight"
            )
        if existing.streamed or existing.status is None or existing.response is None:
            raise IdempotencyConflict(
                "this Idempotency-Key belongs to a completed stream, which is billed once and "
                "cannot be replayed",
                "stream_completed",
            )
        return Replay(existing.status, existing.response, existing.request_id)

    async def complete(
        self, client_id: str, key: str, status: int | None, response: bytes | None
    ) -> None:
        async with self._uow() as uow:
            existing = await uow.idempotency.get(client_id, key)
            if existing is not None:
                done = replace(
                    existing, state=IdempotencyState.COMPLETED, status=status, response=response
                )
                await uow.idempotency.put(done)
                await uow.commit()

    async def release(self, client_id: str, key: str) -> None:
        async with self._uow() as uow:
            await uow.idempotency.delete(client_id, key)
            await uow.commit()

    def _stale(self, record: IdempotencyRecord, now: datetime) -> bool:
        in_flight = record.state is IdempotencyState.IN_FLIGHT
        return in_flight and record.created_at + self._stale_after <= now


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationError(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        )
