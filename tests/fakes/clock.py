"""A clock that only moves when told to, and a deterministic key hasher."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta


class FrozenClock:
    """A clock that only moves when told to; always answers an aware UTC instant."""

    def __init__(self, instant: datetime | None = None) -> None:
        self._now = _utc(instant or datetime(2026, 3, 15, 12, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = _utc(instant)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """`advance(timedelta(hours=1))` or `advance(hours=1)`; returns the new instant."""
        self._now = self._now + (delta or timedelta()) + timedelta(**kwargs)
        return self._now


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("FrozenClock needs an aware instant")
    return instant.astimezone(UTC)


class FakeKeyHasher:
    """HMAC-SHA256 with a fixed test secret: deterministic, keyed, hex."""

    SECRET = b"bizgraph-unit-test-server-secret"

    def __init__(self, secret: bytes = SECRET) -> None:
        self._secret = secret

    def digest(self, secret: str) -> str:
        return hmac.new(self._secret, secret.encode(), hashlib.sha256).hexdigest()
