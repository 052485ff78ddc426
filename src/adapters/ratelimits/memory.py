"""The in-process limiter: exact for one gateway process."""

from __future__ import annotations

import time

from domain.metering.ports import RateLimiter
from domain.metering.ratelimits import Admission, Level, admit


class InMemoryRateLimiter(RateLimiter):
    def __init__(self) -> None:
        self._levels: dict[str, tuple[Level | None, Level | None]] = {}

    async def admit(
        self, key_id: str, rpm: int | None, tpm: int | None, tokens: int, take: bool = True
    ) -> Admission:
        # No await between read and write: atomic on the event loop.
        requests, token_level = self._levels.get(key_id, (None, None))
        admission, requests, token_level = admit(
            requests, token_level, time.monotonic(), rpm, tpm, tokens, take
        )
        if take:
            self._levels[key_id] = (requests, token_level)
        return admission

    async def aclose(self) -> None:
        return None
