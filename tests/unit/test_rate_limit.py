from intake.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_burst_then_refill_per_customer():
    clock = Clock()
    limiter = RateLimiter(per_second=2, burst=3, clock=clock)
    assert [await limiter.acquire("a") for _ in range(3)] == [0, 0, 0]
    wait = await limiter.acquire("a")
    assert wait == 0.5
    assert await limiter.acquire("b") == 0  # another customer has its own bucket
    clock.now += 0.5
    assert await limiter.acquire("a") == 0
    assert await limiter.acquire("a") > 0
    assert RateLimiter.retry_after(0.2) == "1"


async def test_disabled_never_limits():
    limiter = RateLimiter(per_second=0, burst=0)
    assert all([await limiter.acquire("a") == 0 for _ in range(1000)])
