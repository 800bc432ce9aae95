"""In-memory stand-ins for the workers' transports (a Kafka consumer and producer, the shards), and a twin of the
processor's database port that decides with the real pure core (decide.py). With them the workers' own logic —
batching, isolating a bad command, fencing, re-seeking, holds, retries, offsets — runs in milliseconds in
`burst` mode (the worker returns once its input is drained)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaConnectionError
from aiokafka.structs import ConsumerRecord

from booking_processor.decide import Batch, BookingState, ShowState
from booking_processor.decisions import Item
from booking_processor.store import Fenced, PartitionPaused
from booking_processor.undecidable import Undecidable
from notifier.channels import DeliveryError
from notifier.ledger import Claim, Due
from runtime.shards import ShardMap
from schemas.events import encode_event

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

    def append(
        self, partition: int, value: bytes, key: bytes | None = None, headers: list[tuple[str, bytes]] | None = None
    ) -> int:
        tp = TopicPartition(self.topic, partition)
        log = self.logs[tp]
        log.append(
            ConsumerRecord(self.topic, partition, len(log), 0, 0, key, value, None, 0, len(value), headers or [])
        )
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

    async def getmany(
        self, *tps: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        await asyncio.sleep(0)
        out: dict[TopicPartition, list[ConsumerRecord]] = {}
        for tp in sorted(self.assigned - self.paused, key=lambda t: t.partition):
            at = self.fetch_at.get(tp, 0)
            records = self.logs[tp][at : at + (max_records or 10_000)]
            if records:
                out[tp] = records
                self.fetch_at[tp] = at + len(records)
        if not out:
            await asyncio.sleep(0.001)
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.fetch_at[tp] = offset

    async def position(self, tp: TopicPartition) -> int:
        return self.fetch_at.get(tp, 0)

    def seek_to_beginning(self, *tps: TopicPartition) -> None:
        for tp in tps:
            self.fetch_at[tp] = 0

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

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
        **_: object,
    ) -> asyncio.Future[None]:
        if self.down:
            self.down -= 1
            raise KafkaConnectionError("broker away")
        self.sent.append(Sent(topic, value or b"", key, list(headers or [])))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
        **kw: object,
    ) -> None:
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
    defect_once: bool = False  # the defect fails one attempt only (a glitch, not a defect)

    async def position(self, shard: int, group: str, tp: TopicPartition, initial: int) -> int:
        await asyncio.sleep(0)
        if (shard, tp.partition) in self.paused:
            raise PartitionPaused(f"{tp} paused on shard {shard}")
        return self.stored.setdefault((shard, tp.partition), initial)

    async def commit(
        self, shard: int, group: str, tp: TopicPartition, expected: int, next_offset: int, items: list[Item]
    ) -> None:
        await asyncio.sleep(0)
        if self.transient:
            self.transient -= 1
            raise ConnectionResetError("connection to the primary lost")
        key = (shard, tp.partition)
        if key in self.paused:
            raise PartitionPaused(f"{tp} paused on shard {shard}")
        if self.stored.get(key) != expected:
            raise Fenced(f"{tp} is not at {expected}")
        ids = {getattr(i, "command_id", None) for i in items if not isinstance(i, Undecidable)}
        if ids & self.refused:
            raise asyncpg.DataError("value out of range for a column")
        if ids & self.defect:
            if self.defect_once:
                self.defect = set()
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


@dataclass
class Row:
    status: str
    attempts: int
    lease: datetime | None
    payload: bytes


class FakeLedger:
    """The notifier's bookkeeping in memory, with PgLedger's rules (claim, lease, renew by lease, take due),
    a clock the test moves, and outages: while `down`, every call fails as a lost connection does; the next
    `fail_marks` calls to mark a delivery sent fail the same way."""

    def __init__(self, shards: int = 1) -> None:
        self.shards = shards
        self.rows: dict[tuple[str, str], Row] = {}
        self.now = NOW
        self.down = False
        self.fail_marks = 0

    def _check(self) -> None:
        if self.down:
            raise ConnectionRefusedError("the shard's primary is away")

    def _lease(self, seconds: float) -> datetime:
        return self.now + timedelta(seconds=seconds)

    async def claim(self, event, channel: str, lease_s: float):
        await asyncio.sleep(0)
        self._check()
        row = self.rows.get((event.event_id, channel))
        if row is None:
            row = self.rows[(event.event_id, channel)] = Row("sending", 0, None, encode_event(event))
        elif row.status != "sending" or (row.lease is not None and row.lease > self.now):
            return None
        row.lease = self._lease(lease_s)
        return Claim(row.attempts, row.lease)

    async def renew(self, event, channel: str, lease: datetime, lease_s: float):
        await asyncio.sleep(0)
        self._check()
        row = self.rows.get((event.event_id, channel))
        if row is None or row.status != "sending" or row.lease != lease:
            return None
        row.lease = self._lease(lease_s)
        return Claim(row.attempts, row.lease)

    async def take_due(self, shard: int, lease_s: float, limit: int = 100):
        await asyncio.sleep(0)
        self._check()
        due = []
        for (event_id, channel), row in self.rows.items():
            if row.status == "sending" and row.lease is not None and row.lease <= self.now and len(due) < limit:
                row.lease = self._lease(lease_s)
                due.append(Due(event_id, channel, row.attempts, row.payload, row.lease))
        return due

    async def mark_sent(self, event, channel: str, attempts: int) -> None:
        await asyncio.sleep(0)
        self._check()
        if self.fail_marks:
            self.fail_marks -= 1
            raise ConnectionResetError("lost the primary while recording")
        row = self.rows[(event.event_id, channel)]
        row.status, row.attempts, row.lease = "sent", attempts, None

    async def schedule_retry(self, event, channel: str, attempts: int, error: str, delay_s: float) -> None:
        await asyncio.sleep(0)
        self._check()
        row = self.rows[(event.event_id, channel)]
        row.attempts, row.lease = attempts, self._lease(delay_s)

    async def mark_dead(self, event, channel: str, attempts: int, error: str) -> None:
        await asyncio.sleep(0)
        self._check()
        row = self.rows[(event.event_id, channel)]
        row.status, row.attempts, row.lease = "dead", attempts, None


class FakeSmtp:
    """Takes every message (or refuses the addresses in `refuse_to`, as a 451 would); `gate`, when set, holds
    every send until it is opened."""

    def __init__(self) -> None:
        self.messages: list = []
        self.refuse_to: set[str] = set()
        self.gate: asyncio.Event | None = None

    async def send(self, message) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if message["To"] in self.refuse_to:
            raise DeliveryError("451 4.3.0 try again later")
        self.messages.append(message)

    async def close(self) -> None:
        pass


class FakeBatchProducer(FakeProducer):
    """FakeProducer with aiokafka's record batches, as the outbox relay sends them."""

    partitions = 3

    async def partitions_for(self, topic: str) -> set[int]:
        return set(range(self.partitions))

    def create_batch(self) -> list[tuple[bytes | None, bytes]]:
        return []

    async def send_batch(self, batch: list, topic: str, partition: int) -> asyncio.Future[None]:
        if self.down:
            self.down -= 1
            raise KafkaConnectionError("broker away")
        for key, value in batch:
            self.sent.append(Sent(topic, value, key, [("partition", str(partition).encode())]))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


class _Batch(list):
    def append(self, key=None, value=None, timestamp=None):  # type: ignore[override]
        super().append((key, value))
        return True

    def close(self) -> None:
        pass


FakeBatchProducer.create_batch = lambda self: _Batch()  # type: ignore[method-assign]


class FakeOutbox:
    """The connection the outbox relay holds, over an in-memory outbox: rows (id, txid, show_id, events,
    payload), the relay's cursor, and the horizon (the oldest transaction still running: rows at or after it
    are not visible to the relay yet). It answers the relay's three statements, recognised by their tables."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.cursor = {"txid": 0, "last_id": 0}
        self.horizon = 1_000_000

    def add(self, txid: int, show_id: str, *events: bytes) -> None:
        self.rows.append(
            {
                "id": len(self.rows) + 1,
                "txid": txid,
                "show_id": show_id,
                "events": len(events),
                "payload": b"\n".join(events),
            }
        )

    async def fetchrow(self, query: str, *args):
        assert "FROM relay_cursor" in query
        return {**self.cursor, "horizon": self.horizon}

    async def fetch(self, query: str, batch_max: int, txid: int, last_id: int, horizon: int):
        assert "FROM outbox" in query
        after = sorted(
            (r for r in self.rows if (r["txid"], r["id"]) > (txid, last_id) and r["txid"] < horizon),
            key=lambda r: (r["txid"], r["id"]),
        )
        out, before = [], 0
        for row in after:
            if before >= batch_max:
                break
            out.append(row)
            before += row["events"]
        return out

    async def execute(self, query: str, *args) -> None:
        assert query.startswith("UPDATE relay_cursor")
        self.cursor = {"txid": args[0], "last_id": args[1]}


class FakeSweepConnection:
    """The expiry sweeper's connection: `overdue` is what the query for overdue PENDING holds returns."""

    def __init__(self) -> None:
        self.overdue: list[dict] = []
        self.partitions_asked: list[list[int]] = []

    async def fetch(self, query: str, limit: int, partitions: list[int]):
        assert "status = 'PENDING'" in query
        self.partitions_asked.append(partitions)
        return self.overdue[:limit]


async def until(condition, timeout: float = 20.0, interval: float = 0.005) -> None:
    """Poll a condition on the fakes' state (a worker running in the same event loop changes it)."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - the fakes have no event to wait on
            await asyncio.sleep(interval)
