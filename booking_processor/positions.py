"""Where each partition's decisions stand, for a customer's place in line (`queue_position` while RECEIVED).

After every commit the processor notes the partition's next undecided offset and its recent decision rate;
a small task writes the latest of each to Redis (`bo:decided`, `bo:decided_rate`, one hash each). The intake
learns each command's offset from the broker's ack, so "commands still ahead" is the difference (keys in
projections/keys.py, beside every other Redis key). Best
effort by design: Redis being away never holds up a decision (the next commit writes again).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

import redis.asyncio as aioredis
import structlog

from projections.keys import DECIDED_KEY, DECIDED_RATE_KEY
from runtime.lifecycle import Lifecycle
from runtime.retry import Retry, Stopped

log = structlog.get_logger()
RATE_WINDOW_S = 5.0
FLUSH_EVERY_S = 0.05


class PositionBoard:
    def __init__(self, redis: aioredis.Redis, clock=time.monotonic) -> None:
        self._redis, self._clock = redis, clock
        self._samples: dict[int, deque[tuple[float, int]]] = {}
        self._pending: dict[int, tuple[int, float]] = {}
        self._wake = asyncio.Event()

    def decided(self, partition: int, next_offset: int) -> None:
        now = self._clock()
        samples = self._samples.setdefault(partition, deque())
        samples.append((now, next_offset))
        while len(samples) > 2 and now - samples[0][0] > RATE_WINDOW_S:
            samples.popleft()
        (t0, o0), (t1, o1) = samples[0], samples[-1]
        rate = (o1 - o0) / (t1 - t0) if t1 - t0 >= 0.2 else 0.0
        self._pending[partition] = (next_offset, rate)
        self._wake.set()

    async def run(self, lifecycle: Lifecycle) -> None:
        retry = Retry("place-in-line board", lifecycle)
        while not await lifecycle.wait_for(self._wake):
            await asyncio.sleep(FLUSH_EVERY_S)  # coalesce the commits of a burst into one write
            self._wake.clear()
            pending, self._pending = self._pending, {}
            if not pending:
                continue
            try:
                await retry.run(lambda pending=pending: self._write(pending))
            except Stopped:
                return
            except Exception as exc:  # best effort: whatever Redis answers, decisions go on
                log.error("place-in-line write failed", error=repr(exc))

    async def _write(self, pending: dict[int, tuple[int, float]]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(DECIDED_KEY, mapping={str(p): o for p, (o, _) in pending.items()})
            pipe.hset(DECIDED_RATE_KEY, mapping={str(p): round(r, 1) for p, (_, r) in pending.items()})
            await pipe.execute()
