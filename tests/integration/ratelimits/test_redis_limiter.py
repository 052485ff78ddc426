"""The Redis limiter: two limiters (two processes) share one key's buckets; Redis down degrades
to per-process buckets."""

from __future__ import annotations

import uuid

from adapters.ratelimits.memory import InMemoryRateLimiter
from adapters.ratelimits.redis import RedisRateLimiter
from domain.access.keys import ApiKey
from domain.usecases.ratelimits import RateLimits
from tests.fakes import FrozenClock
from tests.support.redis import REDIS_URL, require_redis


async def _redis_or_skip(limiter: RedisRateLimiter) -> None:
    await require_redis()


async def test_two_limiters_share_the_buckets_of_a_key() -> None:
    one, two = RedisRateLimiter(REDIS_URL), RedisRateLimiter(REDIS_URL)
    await _redis_or_skip(one)
    key = f"key-{uuid.uuid4()}"
    try:
        results = [await (one if i % 2 else two).admit(key, 5, None, 0) for i in range(8)]
        assert [r.allowed for r in results] == [True] * 5 + [False] * 3
        assert results[-1].retry_after > 0
        assert results[4].requests is not None
        assert results[4].requests.remaining == 0
        peeked = await one.admit(key, 5, None, 0, take=False)
        assert peeked.requests is not None
        assert peeked.requests.remaining == 0
        tokens = f"key-{uuid.uuid4()}"
        assert (await one.admit(tokens, None, 100, 60)).allowed
        refused = await two.admit(tokens, None, 100, 60)
        assert not refused.allowed
        assert refused.tokens is not None
        assert 40 <= refused.tokens.remaining <= 42  # 100/min refills while the test runs
        looked = await two.admit(tokens, None, 100, 0, take=False)
        assert looked.allowed
        assert looked.tokens is not None
        assert looked.tokens.remaining <= refused.tokens.remaining + 2  # nothing taken
    finally:
        await one.aclose()
        await two.aclose()


async def test_redis_down_limits_per_process_instead() -> None:
    limits = RateLimits(RedisRateLimiter("redis://127.0.0.1:1/0"), InMemoryRateLimiter())
    key = ApiKey("k", "c", "", "bzk_live_x", "d", FrozenClock().now(), rpm_limit=2)
    results = [await limits.admit(key, 0, 0) for _ in range(3)]
    assert [r.allowed for r in results if r is not None] == [True, True, False]
    await limits.aclose()
