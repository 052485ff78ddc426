"""Admitting a call under its key's rate limits.

With a shared limiter (Redis) that fails, the call is limited by this process's own buckets
instead (logged, at most once a minute): rate limits degrade to per-process rather than
failing calls or letting a key run unlimited. Budgets never degrade: they live in the database
and fail closed."""

from __future__ import annotations

import logging
import math
import time

from domain.access.keys import ApiKey
from domain.metering.estimates import tokens_in
from domain.metering.ports import RateLimiter
from domain.metering.ratelimits import Admission

log = logging.getLogger("bizgraph.ratelimits")
_NEVER = 3600.0  # a request above the whole minute's tokens cannot pass: retry much later
_LOG_EVERY = 60.0


class RateLimits:
    def __init__(self, limiter: RateLimiter, fallback: RateLimiter | None = None) -> None:
        self._limiter = limiter
        self._fallback = fallback
        self._logged_at = -math.inf

    async def admit(
        self, key: ApiKey, prompt_chars: int, max_output_tokens: int, take: bool = True
    ) -> Admission | None:
        """None for a key without limits (no I/O at all). The token cost is OpenAI's: the
        prompt estimate plus the most the call may generate."""
        if key.rpm_limit is None and key.tpm_limit is None:
            return None
        tokens = tokens_in(prompt_chars) + max_output_tokens
        try:
            admission = await self._limiter.admit(
                key.id, key.rpm_limit, key.tpm_limit, tokens, take
            )
        except Exception:
            if self._fallback is None:
                raise
            self._log_fallback()
            admission = await self._fallback.admit(
                key.id, key.rpm_limit, key.tpm_limit, tokens, take
            )
        if math.isinf(admission.retry_after):
            return Admission(False, _NEVER, admission.requests, admission.tokens)
        return admission

    async def aclose(self) -> None:
        await self._limiter.aclose()

    def _log_fallback(self) -> None:
        now = time.monotonic()
        if now - self._logged_at >= _LOG_EVERY:
            self._logged_at = now
            log.warning("shared rate limiter unavailable; limiting per process meanwhile")
