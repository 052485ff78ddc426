"""Per-key rate limits (requests and tokens per minute) as token buckets.

A bucket holds up to `limit` units and refills continuously at `limit` per minute, so a key
may burst its whole minute at once, then goes at the steady rate. A call takes one request and
its token estimate (prompt estimate + max output) from both buckets, or from neither. The same
arithmetic runs in memory (one process) and in a Redis script (shared by every process).
Rates are not money: floats are fine here.
"""

from __future__ import annotations

from dataclasses import dataclass

MINUTE = 60.0


@dataclass(frozen=True, slots=True)
class Level:
    """A bucket's content at an instant (seconds, any monotonic-enough clock)."""

    units: float
    at: float


@dataclass(frozen=True, slots=True)
class Window:
    """What the `x-ratelimit-*-{requests,tokens}` headers report for one bucket."""

    limit: int
    remaining: int
    reset_seconds: float  # until the bucket is full again


@dataclass(frozen=True, slots=True)
class Admission:
    allowed: bool
    retry_after: float  # seconds; 0 when allowed
    requests: Window | None
    tokens: Window | None


def level_now(level: Level | None, limit: int, now: float) -> float:
    if level is None:
        return float(limit)
    return min(float(limit), level.units + max(0.0, now - level.at) * limit / MINUTE)


def wait_for(units: float, need: float, limit: int) -> float:
    """Seconds until the bucket holds `need` units (inf if it never can)."""
    if need > limit:
        return float("inf")
    return max(0.0, (need - units) * MINUTE / limit)


def window(units: float, limit: int) -> Window:
    return Window(limit, max(0, int(units)), (limit - units) * MINUTE / limit)


def admit(
    requests: Level | None,
    tokens: Level | None,
    now: float,
    rpm: int | None,
    tpm: int | None,
    cost: int,
    take: bool = True,
) -> tuple[Admission, Level | None, Level | None]:
    """Take one request and `cost` tokens, or nothing; the new levels to store. With
    `take=False` only report the levels (for responses that use nothing, like /v1/models)."""
    req = level_now(requests, rpm, now) if rpm else 0.0
    tok = level_now(tokens, tpm, now) if tpm else 0.0
    waits = []
    if rpm:
        waits.append(wait_for(req, 1, rpm))
    if tpm:
        waits.append(wait_for(tok, cost, tpm))
    retry = max(waits, default=0.0)
    allowed = retry == 0.0
    if allowed and take:
        req, tok = req - 1, tok - cost
    admission = Admission(
        allowed,
        retry,
        window(req, rpm) if rpm else None,
        window(tok, tpm) if tpm else None,
    )
    new_requests = Level(req, now) if rpm else None
    new_tokens = Level(tok, now) if tpm else None
    return admission, new_requests, new_tokens
