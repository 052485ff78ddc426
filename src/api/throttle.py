"""Slowing down token guessing: failed authentications are counted per client address and per
presented token prefix, each in a leaky bucket. A bucket holds `burst` failures and drains
`per_minute` of them a minute; while one is full, that address or prefix is refused (429 with
Retry-After) before any token is checked, so a guesser gets no answer either way.

Only failures are recorded; a request whose address and prefix have no recent failures pays two
dict lookups. Memory is bounded: at most `max_entries` buckets, the least recently failed
dropped first. State is per process (several processes or `--workers` each count their own,
so the allowance multiplies by their number); see SECURITY.md."""

from __future__ import annotations

import functools
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from domain.access.keys import KEY_PREFIX
from domain.access.principals import PORTAL_PREFIX, STAFF_PREFIX

DISPLAY_CHARS = 6  # as many random characters as the apps show of an issued secret
OTHER_PREFIX_CHARS = 8  # the bootstrap token (any shape): its first characters
# Each issued prefix by its first four characters (one dict lookup per request).
_SHOWN = {prefix[:4]: (prefix,) for prefix in (KEY_PREFIX, STAFF_PREFIX, PORTAL_PREFIX)}


def token_prefix(token: str) -> str:
    """The part of a token that identifies it without revealing it: what the apps display of
    an issued key or token, the first characters of anything else."""
    shown = _SHOWN.get(token[:4])
    if shown is not None and token.startswith(shown[0]):
        return token[: len(shown[0]) + DISPLAY_CHARS]
    return token[:OTHER_PREFIX_CHARS]


def address_key(host: str | None) -> str:
    """An IPv4 address as is; an IPv6 address by its /64 (one host usually holds a whole /64,
    so counting addresses one by one would count nothing)."""
    if not host:
        return "-"
    if ":" not in host:  # IPv4 (or a name): as is, without parsing on every request
        return host
    return _ipv6_key(host)


@functools.lru_cache(maxsize=4096)  # parsing costs microseconds; clients come back
def _ipv6_key(host: str) -> str:
    try:
        address = ipaddress.IPv6Address(host.split("%")[0])
    except ValueError:
        return host
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Address(address.packed[:8] + bytes(8))) + "/64"


@dataclass(slots=True)
class _Bucket:
    level: float
    at: float


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    burst: int = 10
    per_minute: float = 10.0
    max_entries: int = 50_000


class FailureThrottle:
    def __init__(
        self,
        policy: ThrottlePolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or ThrottlePolicy()
        self._rate = self.policy.per_minute / 60.0  # failures drained per second
        self._clock = clock
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()

    def retry_after(self, address: str | None, token: str | None) -> int | None:
        """Seconds to wait when this address or token prefix has failed too often; None (the
        usual answer, two dict lookups) when the request may be checked."""
        buckets = self._buckets
        if not buckets:  # nothing failed lately: the usual case
            return None
        keys = self._keys(address, token)
        if keys[0] not in buckets and (len(keys) == 1 or keys[1] not in buckets):
            return None
        now = self._clock()
        waits = [self._wait(key, now) for key in keys]
        wait = max(waits)
        return math.ceil(wait) if wait > 0 else None

    def failed(self, address: str | None, token: str | None) -> None:
        """Record one failed authentication (a wrong, unknown, revoked or expired token)."""
        now = self._clock()
        for key in self._keys(address, token):
            bucket = self._buckets.get(key)
            if bucket is None:
                while len(self._buckets) >= self.policy.max_entries:
                    self._buckets.popitem(last=False)  # the least recently failed
                self._buckets[key] = _Bucket(1.0, now)
                continue
            bucket.level = self._drained(bucket, now) + 1.0
            bucket.at = now
            self._buckets.move_to_end(key)

    def __len__(self) -> int:
        return len(self._buckets)

    def _keys(self, address: str | None, token: str | None) -> tuple[tuple[str, str], ...]:
        by_address = ("address", address_key(address))
        if not token:
            return (by_address,)
        return by_address, ("token", token_prefix(token))

    def _drained(self, bucket: _Bucket, now: float) -> float:
        return max(0.0, bucket.level - (now - bucket.at) * self._rate)

    def _wait(self, key: tuple[str, str], now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        level = self._drained(bucket, now)
        if level == 0.0:
            del self._buckets[key]  # drained: forget it
            return 0.0
        # Full when one more failure would pass the burst: wait until one has drained.
        excess = level + 1.0 - self.policy.burst
        return excess / self._rate if excess > 0 else 0.0
