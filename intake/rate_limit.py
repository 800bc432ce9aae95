"""One per-customer write limit for every intake instance: GCRA (a token bucket kept as one timestamp) in
Redis, one atomic script call per request, on Redis's own clock.

GCRA keeps, per customer, the "theoretical arrival time" (TAT) of the next request at the steady rate. A
request is allowed when the TAT it would push forward stays within `burst` intervals of now; otherwise the
answer is how long until it would. The key expires when the customer's bucket is full again, so idle
customers cost no memory. Keys carry the customer in a hash tag: the script runs on Redis Cluster as is.
"""

from __future__ import annotations

import math

import redis.asyncio as aioredis

# One GCRA step on KEYS[1], given `interval`, `burst` and `now` (nil: Redis's clock): sets `over` (> 0: refused,
# microseconds until allowed; else counted). Shared with the booking's admission script (intake/admission.py).
GCRA_STEP = """
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local over = new_tat - now - burst * interval
if over <= 0 then
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
end
"""
# KEYS[1]: the customer's key; ARGV: interval_us (1e6 / rate), burst, now_us ("" = Redis's clock)
GCRA = (
    """
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = tonumber(ARGV[3])
"""
    + GCRA_STEP
    + """
if over > 0 then
  return over
end
return 0
"""
)


def rate_key(customer: str) -> str:
    return f"bo:rl:{{{customer}}}"


class RedisRateLimiter:
    def __init__(self, redis: aioredis.Redis, per_second: float, burst: int) -> None:
        self._rate, self._burst = per_second, burst
        self._interval_us = int(1_000_000 / per_second) if per_second > 0 else 0
        self._script = redis.register_script(GCRA)

    @property
    def enabled(self) -> bool:
        return self._rate > 0

    async def acquire(self, customer: str, now_us: int | None = None) -> float:
        """0 when the write is allowed (and counted); otherwise the seconds until it would be."""
        if not self.enabled:
            return 0.0
        over_us = await self._script(
            keys=[rate_key(customer)], args=[self._interval_us, self._burst, "" if now_us is None else now_us]
        )
        return int(over_us) / 1_000_000

    @staticmethod
    def retry_after(wait_s: float) -> str:
        return str(max(1, math.ceil(wait_s)))
