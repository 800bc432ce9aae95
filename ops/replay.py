"""`boxoffice replay projections`: rebuild every Redis read model from booking.events offset 0.

1. Build a new generation (namespace) from offset 0 to the end offsets taken at the start; reads keep
   being served from the live generation meanwhile. No consumer group is used or reset (notifier and
   expiry positions are untouched).
2. Hand over: set HANDOVER_KEY; every live projection consumer pauses between batches and says so.
3. Catch up the new generation to the current end offsets (everything a paused consumer had applied).
4. Switch atomically (MULTI: set the active namespace, clear the handover); consumers resume from their
   own positions into the new generation, where events applied already are skipped as duplicates.
5. Delete the old generation after a grace period for readers that cached its name.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from aiokafka import TopicPartition

from projections.apply import EventApplier
from projections.consumer import count_results, decode_events
from projections.keys import ACTIVE_NAMESPACE_KEY, HANDOVER_KEY, PAUSED_KEY, Keys, active_namespace
from runtime.clients import kafka_admin, kafka_consumer, redis_client, topic_partitions
from runtime.settings import Settings
from schemas import topics

HANDOVER_TIMEOUT_S = 60


class ReplayFailed(Exception):
    pass


class Progress:
    """offsets done / total, rate, ETA on one line of stderr."""

    def __init__(self, total: int, stream=sys.stderr) -> None:
        self.total, self.done, self.started, self._stream, self._last = total, 0, time.monotonic(), stream, 0.0

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= 0.2 or self.done >= self.total:
            self._last = now
            self.render()

    def render(self) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        width = 30
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        self._stream.write(f"\r[{bar}] {self.done}/{self.total} offsets  {rate:,.0f}/s  ETA {eta:5.1f}s")
        self._stream.flush()

    def finish(self) -> None:
        self.render()
        self._stream.write("\n")


async def _consume_range(
    consumer,
    applier: EventApplier,
    keys: Keys,
    start: dict[TopicPartition, int],
    end: dict[TopicPartition, int],
    on_progress: Callable[[int], None],
) -> None:
    pending = {tp for tp in end if start.get(tp, 0) < end[tp]}
    for tp in end:
        consumer.seek(tp, start.get(tp, 0))
    while pending:
        batches = await consumer.getmany(*pending, timeout_ms=1000, max_records=10_000)
        for tp, records in batches.items():
            records = [r for r in records if r.offset < end[tp]]
            if records:
                events = decode_events(records)
                # The positions go with the applies: the generation knows how far it stands (see
                # ProjectionConsumer: after a Redis failover the live consumers rewind to them).
                count_results(events, await applier.apply(events, keys, {tp.partition: records[-1].offset + 1}))
                on_progress(records[-1].offset + 1 - start.get(tp, 0))
                start[tp] = records[-1].offset + 1
            if start.get(tp, 0) >= end[tp]:
                pending.discard(tp)


async def _live_members(settings: Settings) -> int:
    """How many live projection consumers must say they paused before the switch. Not knowing is a reason
    to stop: guessing 0 would let a live consumer apply events into the old generation after the switch."""
    admin = kafka_admin(settings, "boxoffice-replay")
    try:
        await admin.start()
        described = await admin.describe_consumer_groups([settings.projections_group])
        groups = [group for response in described for group in response.to_object()["groups"]]
        if not groups or any(group["error_code"] for group in groups):
            raise RuntimeError(f"describe_consumer_groups answered {groups}")
        return sum(len(group["members"]) for group in groups)
    except Exception as exc:
        raise ReplayFailed(
            f"cannot tell how many live projection consumers must pause ({exc!r}); the live generation stays"
        ) from exc
    finally:
        await admin.close()


async def replay_projections(
    settings: Settings, redis: aioredis.Redis | None = None, progress_stream=sys.stderr, grace_s: float = 2.0
) -> str:
    """Rebuild into a new namespace and switch to it; returns the new namespace."""
    own_redis = redis is None
    redis = redis or redis_client(settings)
    consumer = kafka_consumer(settings, group_id=None)
    await consumer.start()
    try:
        old = active_namespace(await redis.get(ACTIVE_NAMESPACE_KEY))
        new = f"bo:g{time.time_ns()}"
        keys = Keys(new)
        applier = EventApplier(redis, publish=False)  # a generation being built is nobody's live view
        partitions = await topic_partitions(consumer, topics.EVENTS)
        if not partitions:
            raise ReplayFailed(f"topic {topics.EVENTS} not found")
        tps = [TopicPartition(topics.EVENTS, p) for p in sorted(partitions)]
        consumer.assign(tps)
        position = await consumer.beginning_offsets(tps)
        end = await consumer.end_offsets(tps)
        progress = Progress(sum(end[tp] - position[tp] for tp in tps), progress_stream)
        await _consume_range(consumer, applier, keys, position, end, progress.advance)
        progress.finish()

        try:
            members = await _live_members(settings)
        except ReplayFailed:
            await _delete_namespace(redis, keys)
            raise
        await redis.delete(PAUSED_KEY)
        await redis.set(HANDOVER_KEY, new)
        try:
            deadline = time.monotonic() + HANDOVER_TIMEOUT_S
            while await redis.scard(PAUSED_KEY) < members:
                if time.monotonic() > deadline:
                    raise ReplayFailed(
                        f"{members} live projection consumer(s) did not pause within "
                        f"{HANDOVER_TIMEOUT_S}s; the live generation {old} stays"
                    )
                await asyncio.sleep(0.05)
            final_end = await consumer.end_offsets(tps)
            await _consume_range(consumer, applier, keys, position, final_end, lambda n: None)
            async with redis.pipeline(transaction=True) as pipe:
                pipe.set(ACTIVE_NAMESPACE_KEY, new)
                pipe.delete(HANDOVER_KEY)
                await pipe.execute()
        except BaseException:
            await redis.delete(HANDOVER_KEY)
            await _delete_namespace(redis, keys)
            raise
        await asyncio.sleep(grace_s)
        await _delete_namespace(redis, Keys(old))
        return new
    finally:
        await consumer.stop()
        if own_redis:
            await redis.aclose()


async def _delete_namespace(redis: aioredis.Redis, keys: Keys) -> None:
    batch = []
    async for key in redis.scan_iter(match=keys.pattern(), count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            await redis.unlink(*batch)
            batch = []
    if batch:
        await redis.unlink(*batch)
