"""Which partitions this processor decides, and where each one resumes: the state of the assignment.

A partition assigned by Kafka is *unpositioned* (paused, its records dropped) until its stored position is
read from the shard the map names (`consumer_positions`, created at the log start the first time); then it is
sought there and *positioned* on that shard: its batches commit there, whatever the map says meanwhile. A map
that moves it (or a position found paused) *holds* it: paused, forgotten, and read again from the shard that
holds it once the map settles. A defect *halts* it (paused until a restart). Every seek bumps the
partition's *epoch*: a batch fetched before a seek is stale and is dropped, never committed.

Reading positions never blocks the fetch loop: it runs in the background, one shard at a time and each with
the one retry primitive, so the partitions of a shard that is away stay paused while the others decide.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from booking_processor import metrics
from booking_processor.decisions import Decisions
from booking_processor.store import PartitionPaused
from runtime.lifecycle import Lifecycle
from runtime.retry import Retry, Stopped
from runtime.shards import ShardMap

log = structlog.get_logger()
HOLD_RECHECK_S = 1.0


class Assignment:
    consumer: AIOKafkaConsumer

    def __init__(self, decisions: Decisions, group: str, lifecycle: Lifecycle) -> None:
        self._decisions, self._group, self._lifecycle = decisions, group, lifecycle
        self.positions: dict[TopicPartition, int] = {}  # the stored position, as last committed or read
        self.ahead: dict[TopicPartition, int] = {}  # where the next batch starts (after the one in flight)
        self.epoch: dict[TopicPartition, int] = {}
        self.unpositioned: set[TopicPartition] = set()  # assigned, stored position not read yet
        # The shard each positioned partition is decided on (where its position was read).
        self.position_shard: dict[TopicPartition, int] = {}
        self.held: dict[TopicPartition, float] = {}  # moving (or moved) to another shard: paused since
        self.halted: dict[TopicPartition, str] = {}
        self._reading: asyncio.Task[dict[TopicPartition, tuple[int, int]]] | None = None
        self._retry = Retry("stored positions", lifecycle)
        self._reseek_retry = Retry("stored position after a fence", lifecycle)
        metrics.HALTED.set(0)

    # ------------------------------------------------------------------ membership
    def assigned(self, tp: TopicPartition) -> None:
        # Its records are dropped until the stored position is read, then it is sought there. (The listener
        # may run while the consumer is still starting: no consumer calls here.)
        self.unpositioned.add(tp)

    def forget(self, tp: TopicPartition) -> None:
        self.positions.pop(tp, None)
        self.ahead.pop(tp, None)
        self.position_shard.pop(tp, None)
        self.held.pop(tp, None)
        self.unpositioned.discard(tp)
        if self.halted.pop(tp, None) is not None:
            metrics.HALTED.set(len(self.halted))

    def deciding(self, tp: TopicPartition) -> bool:
        return tp in self.positions and tp not in self.halted

    # ------------------------------------------------------------------ positions
    async def position_new(self, smap: ShardMap) -> None:
        """Start reading the stored positions of newly assigned partitions (in the background); apply what
        a finished read found. Partitions of a shard that does not answer stay paused meanwhile."""
        self.consumer.pause(*self.unpositioned)  # fetch nothing for them meanwhile
        if self._reading is not None:
            if not self._reading.done():
                return
            reading, self._reading = self._reading, None
            try:
                stored = reading.result()
            except Stopped:
                return
            self._apply(stored)
        tps = sorted((tp for tp in self.unpositioned if tp.partition not in smap.moving), key=lambda tp: tp.partition)
        if tps:
            self._reading = asyncio.create_task(self._read(tps, smap))

    async def _read(self, tps: list[TopicPartition], smap: ShardMap) -> dict[TopicPartition, tuple[int, int]]:
        beginnings = await self._retry.run(lambda: self.consumer.beginning_offsets(tps))
        stored: dict[TopicPartition, tuple[int, int]] = {}
        for tp in tps:
            shard = smap.shard_of(tp.partition)
            try:
                offset = await self._retry.run(
                    lambda tp=tp, shard=shard: self._decisions.position(shard, self._group, tp, beginnings[tp])
                )
            except PartitionPaused:
                stored[tp] = (shard, -1)  # the map will say where it went
                continue
            stored[tp] = (shard, offset)
        return stored

    def _apply(self, stored: dict[TopicPartition, tuple[int, int]]) -> None:
        positioned = {}
        for tp, (shard, offset) in stored.items():
            if tp not in self.unpositioned:
                continue  # revoked (or held) meanwhile
            if offset < 0:
                self.hold(tp, "its position on this shard is paused")
                continue
            self.unpositioned.discard(tp)
            self.positions[tp] = offset
            self.position_shard[tp] = shard
            self.seek(tp, offset)
            self.consumer.resume(tp)
            positioned[tp.partition] = shard
        if positioned:
            log.info("partitions positioned", partitions=positioned)

    async def reseek(self, tp: TopicPartition) -> None:
        """Fenced: another processor moved the stored position. Seek to where it stands now."""
        shard = self.position_shard.get(tp)
        if shard is None:
            return  # held or revoked meanwhile
        try:
            stored = await self._reseek_retry.run(lambda: self._decisions.position(shard, self._group, tp, 0))
        except PartitionPaused:
            self.hold(tp, "its position on this shard is paused")
            return
        except Stopped:
            return  # the next owner reads the stored position anyway
        log.warning("fenced: stored position moved, re-seeking", partition=tp.partition, stored=stored)
        if tp in self.positions:  # still ours
            self.positions[tp] = stored
            self.seek(tp, stored)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.ahead[tp] = offset
        self.epoch[tp] = self.epoch.get(tp, 0) + 1
        self.consumer.seek(tp, offset)

    # ------------------------------------------------------------------ holds and halts
    def hold(self, tp: TopicPartition, why: str) -> None:
        """Stop deciding a partition here: it is moving to another shard (or has moved). Its records are
        dropped; once the map settles it is read again from the shard that holds it."""
        if tp in self.held:
            return
        self.positions.pop(tp, None)
        self.ahead.pop(tp, None)
        self.position_shard.pop(tp, None)
        self.unpositioned.discard(tp)
        self.held[tp] = time.monotonic()
        self.consumer.pause(tp)
        log.info("partition held", partition=tp.partition, why=why)

    async def follow(self, smap: ShardMap, settle: Callable[[TopicPartition], Awaitable[None]]) -> None:
        """Hold the partitions the map moves away from their shard (after their batch in flight settles);
        release held ones once it settles."""
        for tp, shard in list(self.position_shard.items()):
            if tp.partition in smap.moving or smap.shard_of(tp.partition) != shard:
                await settle(tp)  # the batch in flight commits (or is refused) first
                self.hold(tp, "the shard map moves it")
        now = time.monotonic()
        for tp, since in list(self.held.items()):
            if tp.partition not in smap.moving and now - since >= HOLD_RECHECK_S:
                del self.held[tp]
                self.unpositioned.add(tp)  # read again, from the shard the map names now

    def halt(self, tp: TopicPartition, error: str) -> None:
        self.halted[tp] = error
        self.consumer.pause(tp)
        metrics.HALTS.inc()
        metrics.HALTED.set(len(self.halted))

    async def close(self) -> None:
        if self._reading is not None and not self._reading.done():
            self._reading.cancel()
            await asyncio.gather(self._reading, return_exceptions=True)


class Rebalance(ConsumerRebalanceListener):
    """Revoked: let the batches in flight commit (or fail), then forget the partitions. Assigned: their
    positions are read by the fetch loop (which retries while PostgreSQL is down), not here."""

    def __init__(
        self, assignment: Assignment, lock: asyncio.Lock, settle: Callable[[TopicPartition], Awaitable[None]]
    ) -> None:
        self._assignment, self._lock, self._settle = assignment, lock, settle

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:
            for tp in revoked:
                await self._settle(tp)
                self._assignment.forget(tp)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        for tp in assigned:
            self._assignment.assigned(tp)
