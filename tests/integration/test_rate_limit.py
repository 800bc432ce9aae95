"""The per-customer write limit: GCRA in Redis (the real server), shared by every intake instance."""

from __future__ import annotations

import secrets

from intake.rate_limit import RedisRateLimiter, rate_key
from tests.support.waiting import eventually

SECOND = 1_000_000


async def test_burst_then_the_steady_rate_per_customer(redis):
    limiter = RedisRateLimiter(redis, per_second=2, burst=3)
    a, b = f"a-{secrets.token_hex(3)}", f"b-{secrets.token_hex(3)}"
    t0 = 1_000_000 * SECOND
    assert [await limiter.acquire(a, t0) for _ in range(3)] == [0, 0, 0]  # the burst
    assert await limiter.acquire(a, t0) == 0.5  # then one every 0.5 s
    assert await limiter.acquire(b, t0) == 0  # another customer has a bucket of its own
    assert await limiter.acquire(a, t0 + SECOND // 2) == 0
    assert await limiter.acquire(a, t0 + SECOND // 2) > 0
    assert RedisRateLimiter.retry_after(0.2) == "1"


async def test_two_limiters_share_one_limit(redis):
    """Two intake instances (two limiter objects) see one bucket per customer."""
    # One refill per 10 s: none while the 12 requests run, however slowly they are answered.
    first, second = RedisRateLimiter(redis, 0.1, 4), RedisRateLimiter(redis, 0.1, 4)
    customer = f"c-{secrets.token_hex(3)}"
    allowed = [await (first if i % 2 else second).acquire(customer) == 0 for i in range(12)]
    assert sum(allowed) == 4  # the burst, not twice it


async def test_idle_customers_cost_nothing_and_off_never_limits(redis):
    limiter = RedisRateLimiter(redis, per_second=1, burst=1)
    customer = f"idle-{secrets.token_hex(3)}"
    await limiter.acquire(customer)
    # The key lives until the bucket is full again (one interval, 1 s), then costs nothing.
    assert 0 < await redis.pttl(rate_key(customer)) <= 1000
    await eventually(lambda: redis.exists(rate_key(customer)), lambda n: n == 0, timeout=15, what="the key gone")
    off = RedisRateLimiter(redis, per_second=0, burst=1)
    assert all([await off.acquire(customer) == 0 for _ in range(100)])
