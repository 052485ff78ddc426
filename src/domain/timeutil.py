"""Instants are timezone-aware datetimes; naive ones are a bug, so they are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from domain.errors import ValidationError


def require_aware(instant: datetime, what: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValidationError(f"{what} must be timezone-aware")
    return instant


def to_utc(instant: datetime, what: str) -> datetime:
    return require_aware(instant, what).astimezone(UTC)


def exact_seconds(start: datetime, end: datetime) -> Decimal:
    """Elapsed seconds between two instants, exact to the microsecond and DST-safe."""
    require_aware(start, "start")
    delta = require_aware(end, "end").astimezone(UTC) - start.astimezone(UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Decimal(micros).scaleb(-6)
