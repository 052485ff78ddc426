"""The shared limiter: both buckets of a key in Redis, checked and taken by one Lua script
(scripts run atomically), so a limit holds across every gateway process.

The script mirrors domain.metering.ratelimits.admit. Time is the Redis server's (`TIME`), one
clock for every process. Each bucket expires after two idle minutes (it is full again by then).
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from domain.metering.ports import RateLimiter
from domain.metering.ratelimits import Admission, Window

_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rpm, tpm, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local take = ARGV[4] == '1'

local function level(key, limit)
  local stored = redis.call('HMGET', key, 'u', 'at')
  local units, at = tonumber(stored[1]), tonumber(stored[2])
  if units == nil then return limit end
  return math.min(limit, units + math.max(0, now - at) * limit / 60)
end

local function wait(units, need, limit)
  if need > limit then return -1 end
  return math.max(0, (need - units) * 60 / limit)
end

local req, tok, retry = 0, 0, 0
if rpm > 0 then
  req = level(KEYS[1], rpm)
  retry = wait(req, 1, rpm)
end
if tpm > 0 then
  tok = level(KEYS[2], tpm)
  local w = wait(tok, cost, tpm)
  if w < 0 or retry < 0 then retry = -1 else retry = math.max(retry, w) end
end
local allowed = retry == 0
if allowed and take then
  req = req - 1
  tok = tok - cost
end
if take and rpm > 0 then
  redis.call('HSET', KEYS[1], 'u', tostring(req), 'at', tostring(now))
  redis.call('EXPIRE', KEYS[1], 120)
end
if take and tpm > 0 then
  redis.call('HSET', KEYS[2], 'u', tostring(tok), 'at', tostring(now))
  redis.call('EXPIRE', KEYS[2], 120)
end
return {allowed and 1 or 0, tostring(retry), tostring(req), tostring(tok)}
"""
_NEVER = 3600.0  # a request larger than the whole minute's tokens: retry much later


class RedisRateLimiter(RateLimiter):
    def __init__(self, url: str, prefix: str = "bizgraph:rl:") -> None:
        self._redis: Redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script: Any = self._redis.register_script(_SCRIPT)
        self._prefix = prefix

    async def admit(
        self, key_id: str, rpm: int | None, tpm: int | None, tokens: int, take: bool = True
    ) -> Admission:
        keys = [f"{self._prefix}{key_id}:req", f"{self._prefix}{key_id}:tok"]
        args = [rpm or 0, tpm or 0, tokens, 1 if take else 0]
        allowed, retry, req, tok = await self._script(keys=keys, args=args)
        retry_after = float(retry)
        return Admission(
            allowed=bool(allowed),
            retry_after=_NEVER if retry_after < 0 else retry_after,
            requests=_window(float(req), rpm),
            tokens=_window(float(tok), tpm),
        )

    async def aclose(self) -> None:
        await self._redis.aclose()


def _window(units: float, limit: int | None) -> Window | None:
    if not limit:
        return None
    return Window(limit, max(0, int(units)), (limit - units) * 60 / limit)
