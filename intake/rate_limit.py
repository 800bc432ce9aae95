"""Per-customer token buckets for writes, in the intake process (no round trip on the hot path).

Each intake instance limits on its own, so N instances behind the load balancer allow up to N times the
rate; the limit is there to stop one customer's script from flooding an on-sale, not to meter exactly.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

from cachetools import LRUCache


class RateLimiter:
    def __init__(self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 capacity: int = 100_000) -> None:
        self._rate, self._burst, self._clock = per_second, burst, clock
        # customer -> (tokens, last refill); the least recently seen customer is forgotten first (forgetting
        # a bucket only forgives).
        self._buckets: LRUCache[str, tuple[float, float]] = LRUCache(maxsize=capacity)

    @property
    def enabled(self) -> bool:
        return self._rate > 0

    async def acquire(self, customer: str) -> float:
        """0 when allowed (a token is taken); otherwise the seconds until one will be available."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        tokens, last = self._buckets.get(customer, (float(self._burst), now))
        tokens = min(float(self._burst), tokens + (now - last) * self._rate)
        if tokens >= 1:
            self._buckets[customer] = (tokens - 1, now)
            return 0.0
        self._buckets[customer] = (tokens, now)
        return (1 - tokens) / self._rate

    @staticmethod
    def retry_after(wait_s: float) -> str:
        return str(max(1, math.ceil(wait_s)))
