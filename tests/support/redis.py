"""The Redis server the shared rate-limit tests need: skipped loudly when it is absent, and a
failure instead when BIZGRAPH_REQUIRE_REDIS=1 (as `.ci/run` sets it)."""

from __future__ import annotations

import os

import pytest
import redis.asyncio as redis

REDIS_URL = os.environ.get("BIZGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("BIZGRAPH_REQUIRE_REDIS") == "1"


async def require_redis(url: str = REDIS_URL) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    except (OSError, redis.RedisError) as exc:
        reason = f"Redis not reachable at {url} ({exc}): shared rate-limit tests SKIPPED"
        if REQUIRE_REDIS:
            pytest.fail(f"{reason} (but BIZGRAPH_REQUIRE_REDIS=1)")
        pytest.skip(reason)
    finally:
        await client.aclose()
