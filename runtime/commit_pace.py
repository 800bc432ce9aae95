"""How often a consumer whose handling is idempotent commits its offsets: at most once a second while batches
keep coming, and as soon as a fetch comes back empty (at rest every offset is committed).

Each offset commit is a write to `__consumer_offsets`, replicated to three brokers on the HA topology. The
projections and the notifier committed after every batch, so under a steady HTTP load every few bookings
cost each of them a replicated write (docs/BENCHMARKS.md, the front door: Kafka's CPU per booking). What a
paced commit risks is handling again, after a crash or a rebalance, up to a second of events that were
already handled: applying an event again is a no-op for the projections (show_version), and the notifier's
ledger sends each message once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

COMMIT_EVERY_S = 1.0
# aiokafka's commit retries without end while the group's coordinator is unknown (a Kafka outage): bounded, so
# that a consumer loop keeps going (or stops on SIGTERM) and commits again later.
COMMIT_TIMEOUT_S = 10.0


class CommitPace:
    def __init__(self, every_s: float = COMMIT_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._every_s = every_s
        self._clock = clock
        self._last = clock()
        self._held_until = float("-inf")

    async def commit(
        self,
        consumer: AIOKafkaConsumer,
        offsets: Mapping[TopicPartition, int] | None = None,
        timeout_s: float | None = None,
    ) -> None:
        """`consumer.commit(offsets)` within `timeout_s` (default COMMIT_TIMEOUT_S). Past it, TimeoutError: not
        committed (handled again later, as when a commit fails), and no commit is due for as long again, fetched
        or not (the group's coordinator is away; each attempt would hold the consumer's loop that long)."""
        timeout_s = COMMIT_TIMEOUT_S if timeout_s is None else timeout_s
        try:
            await asyncio.wait_for(consumer.commit() if offsets is None else consumer.commit(dict(offsets)), timeout_s)
        except TimeoutError:
            self._held_until = self._clock() + timeout_s
            raise

    def due(self, fetched: bool) -> bool:
        """Whether to commit now, after a fetch that found records (`fetched`) or none."""
        now = self._clock()
        if now < self._held_until or (fetched and now - self._last < self._every_s):
            return False
        self._last = now
        return True
