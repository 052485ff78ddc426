"""Idempotency keys sent by clients: the same key and body within the window is billed once.

Policy (docs/metering.md): a completed non-streamed answer is stored and replayed; a retry
while the first is in flight is refused; a completed stream cannot be replayed, so its retry is
refused too; a call that failed releases its key, so the client may retry it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import DomainError
from domain.timeutil import require_aware

WINDOW = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyState(StrEnum):
    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    client_id: str
    key: str
    body_hash: str
    request_id: str
    created_at: datetime
    state: IdempotencyState = IdempotencyState.IN_FLIGHT
    streamed: bool = False
    status: int | None = None
    response: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        require_aware(self.created_at, "created_at")

    def expired_at(self, now: datetime) -> bool:
        return now - self.created_at >= WINDOW


class IdempotencyConflict(DomainError):
    """The key is in use: in flight, completed as a stream, or given another body."""

    code = "idempotency_conflict"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # in_flight | stream_completed | body_mismatch
