"""In-memory stand-ins for the workers' transports (a Kafka consumer and producer, the shards), and a twin of the
processor's database port that decides with the real pure core (decide.py). With them the workers' own logic —
batching, isolating a bad command, fencing, re-seeking, holds, retries, offsets — runs in milliseconds in
`burst` mode (the worker returns once its input is drained)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaConnectionError
from aiokafka.structs import ConsumerRecord

from booking_processor.decide import Batch, BookingState, ShowState
from booking_processor.decisions import Item
from booking_processor.store import Fenced, PartitionPaused
from runtime.shards import ShardMap

NOW = datetime(2030, 1, 1, tzinfo=UTC)


class FakeConsumer:
    """One consumer of one topic's partitions: records appended by the test, fetched from each partition's
    position (seek moves it), paused partitions skipped; `assign` runs the rebalance listener as Kafka would."""

    def __init__(self, topic: str, partitions: int = 2) -> None:
        self.topic = topic
        self.logs: dict[TopicPartition, list[ConsumerRecord]] = {
            TopicPartition(topic, p): [] for p in range(partitions)
        }
        self.fetch_at: dict[TopicPartition, int] = {}
        self.paused: set[TopicPartition] = set()
        self.assigned: set[TopicPartition] = set()
        self.committed: dict[TopicPartition, int] = {}
        self.listener: ConsumerRebalanceListener | None = None

    def append(self, partition: int, value: bytes, key: bytes | None = None,
               headers: list[tuple[str, bytes]] | None = None) -> int:
        tp = TopicPartition(self.topic, partition)
        log = self.logs[tp]
        log.append(ConsumerRecord(self.topic, partition, len(log), 0, 0, key, value, None, 0,
                                  len(value), headers or []))
        return len(log) - 1

    async def assign(self, partitions: Iterable[int]) -> None:
        tps = {TopicPartition(self.topic, p) for p in partitions}
        revoked = self.assigned - tps
        if self.listener is not None and revoked:
            await self.listener.on_partitions_revoked(revoked)
        self.assigned = tps
        for tp in tps:
            self.fetch_at.setdefault(tp, 0)
        if self.listener is not None:
            await self.listener.on_partitions_assigned(tps)

    # -- the aiokafka surface the workers use
    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    async def getmany(self, *tps: TopicPartition, timeout_ms: int = 0,
                      max_records: int | None = None) -> dict[TopicPartition, list[ConsumerRecord]]:
        await asyncio.sleep(0)
        out: dict[TopicPartition, list[ConsumerRecord]] = {}
        for tp in sorted(self.assigned - self.paused, key=lambda t: t.partition):
            at = self.fetch_at.get(tp, 0)
            records = self.logs[tp][at:at + (max_records or 10_000)]
            if records:
                out[tp] = records
                self.fetch_at[tp] = at + len(records)
        if not out:
            await asyncio.sleep(0.001)
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.fetch_at[tp] = offset

    def pause(self, *tps: TopicPartition) -> None:
        self.paused.update(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self.paused.difference_update(tps)

    async def beginning_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: 0 for tp in tps}

    async def commit(self, offsets: dict[TopicPartition, int] | None = None) -> None:
        if offsets is None:
            offsets = {tp: self.fetch_at.get(tp, 0) for tp in self.assigned}
        self.committed.update(offsets)


@dataclass
class Sent:
    topic: str
    value: bytes
    key: bytes | None
    headers: list[tuple[str, bytes]]


class FakeProducer:
    """Acks every send at once; `down` makes the next sends fail as a broker that is away does."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.down = 0

    async def send(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                   headers: list[tuple[str, bytes]] | None = None, **_: object) -> asyncio.Future[None]:
        if self.down:
            self.down -= 1
            raise KafkaConnectionError("broker away")
        self.sent.append(Sent(topic, value or b"", key, list(headers or [])))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def send_and_wait(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                            headers: list[tuple[str, bytes]] | None = None, **kw: object) -> None:
        await (await self.send(topic, value, key, headers, **kw))

    def to(self, topic: str) -> list[Sent]:
        return [s for s in self.sent if s.topic == topic]


class FakeShards:
    """The shard map as the workers see it (no pools): loaded, two shards by default."""

    def __init__(self, shards: int = 2) -> None:
        self.map = ShardMap.default(shards)
        self.loaded = asyncio.Event()
        self.loaded.set()
        self.count = shards


@dataclass
class FakeDecisions:
    """The processor's database port in memory: stored positions per (shard, partition) with the fence, and
    every batch decided by the real pure core. Faults on demand: `transient` failures before the next commits,
    commands `refused` for their content (a DataError), commands whose decision is a `defect`."""

    shows: dict[str, ShowState] = field(default_factory=dict)
    bookings: dict[str, BookingState] = field(default_factory=dict)
    stored: dict[tuple[int, int], int] = field(default_factory=dict)
    paused: set[tuple[int, int]] = field(default_factory=set)
    events: list = field(default_factory=list)
    commits: list[tuple[int, int, int, int, int]] = field(default_factory=list)  # shard, partition, from, to, n
    transient: int = 0
    refused: set[str] = field(default_factory=set)
    defect: set[str] = field(default_factory=set)

    async def position(self, shard: int, group: str, tp: TopicPartition, initial: int) -> int:
        await asyncio.sleep(0)
        if (shard, tp.partition) in self.paused:
            raise PartitionPaused(f"{tp} paused on shard {shard}")
        return self.stored.setdefault((shard, tp.partition), initial)

    async def commit(self, shard: int, group: str, tp: TopicPartition, expected: int, next_offset: int,
                     items: list[Item]) -> None:
        await asyncio.sleep(0)
        if self.transient:
            self.transient -= 1
            raise ConnectionResetError("connection to the primary lost")
        key = (shard, tp.partition)
        if key in self.paused:
            raise PartitionPaused(f"{tp} paused on shard {shard}")
        if self.stored.get(key) != expected:
            raise Fenced(f"{tp} is not at {expected}")
        ids = {getattr(i, "command_id", None) for i in items}
        if ids & self.refused:
            raise asyncpg.DataError("value out of range for a column")
        if ids & self.defect:
            raise TypeError("a defect in the decision code")
        batch = Batch(shows=self.shows, bookings=self.bookings, now=NOW)
        for item in items:
            batch.decide(item)
        for state in batch.shows.values():
            state.is_new = False
            state.seat_map.committed()
        self.stored[key] = next_offset
        self.events += batch.events
        self.commits.append((shard, tp.partition, expected, next_offset, len(items)))
