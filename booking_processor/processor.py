"""The command consumer: one transaction per partition batch.

Per batch: move the stored position (fencing), lock the batch's shows in sorted order, decide every command
in order in memory, write bookings, seats, outbox events and the new position, commit once. The stored
position, not Kafka's committed offset, is where a partition resumes.

What stops a partition, and what does not:
- a lost connection (Kafka, PostgreSQL) is transient: the same batch is retried with backoff, nothing skipped;
- bad input (a message the contract refuses, or a command the database refuses because of its content) is
  dead-lettered, and the request it carried is decided `invalid_request` (see undecidable.py);
- anything else is a defect of ours: the partition halts (no offset moves, the process reports not ready,
  the error is logged with the commands and counted); it resumes when the process restarts with the fix.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from booking_processor import metrics
from booking_processor.positions import PositionBoard
from booking_processor.store import (
    Fenced,
    PartitionPaused,
    ShowCache,
    claim_position,
    load_batch,
    load_position,
    write_batch,
)
from booking_processor.undecidable import Undecidable
from runtime.lifecycle import Lifecycle
from runtime.shards import Shards
from runtime.transient import Backoff, is_transient
from schemas import topics
from schemas.commands import Command, RequestBooking, decode_command, encode_command
from schemas.validation import SchemaError

log = structlog.get_logger()

Item = Command | Undecidable
_BOOKING_KEYS = frozenset({"bookings_pkey", "bookings_request_id_key"})
TRACES_LOGGED = 200
HOLD_RECHECK_S = 1.0


def refused_for_its_content(exc: BaseException) -> bool:
    """The database refused a command because of what it carries, not because of us: a value it cannot
    store (SQLSTATE class 22), or a request id that another booking already holds."""
    if isinstance(exc, asyncpg.DataError):
        return True
    return isinstance(exc, asyncpg.UniqueViolationError) and exc.constraint_name == "bookings_request_id_key"


class Halt(Exception):
    """A defect (not bad input, not the network): the partition stops where it is."""


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, processor: CommandProcessor) -> None:
        self._processor = processor

    async def on_partitions_revoked(self, revoked) -> None:
        # Let the batches in flight commit (or fail), then forget the partitions.
        async with self._processor.batch_lock:
            for tp in revoked:
                await self._processor.settle(tp)
                self._processor.forget(tp)

    async def on_partitions_assigned(self, assigned) -> None:
        # Positions are read from PostgreSQL by the run loop (which retries while it is down), not here.
        for tp in assigned:
            self._processor.await_position(tp)


class CommandProcessor:
    consumer: AIOKafkaConsumer  # subscribed with `rebalance_listener()`, set before `run()`

    def __init__(
        self,
        shards: Shards,
        producer: AIOKafkaProducer,
        group: str,
        batch_max: int,
        lifecycle: Lifecycle,
        topic: str = topics.COMMANDS,
        board: PositionBoard | None = None,
    ) -> None:
        self.shards, self.producer, self.board = shards, producer, board
        self.group, self.batch_max, self.lifecycle, self.topic = group, batch_max, lifecycle, topic
        self.positions: dict[TopicPartition, int] = {}  # the stored position, as last committed or read
        self.ahead: dict[TopicPartition, int] = {}  # where the next batch starts (after the one in flight)
        self.inflight: dict[TopicPartition, asyncio.Task] = {}
        # Bumped by every seek: a batch fetched before a seek is stale and is dropped, never committed.
        self.epoch: dict[TopicPartition, int] = {}
        self.unpositioned: set[TopicPartition] = set()  # assigned, stored position not read yet
        # The shard each positioned partition is decided on (where its position was read): a batch commits
        # there, whatever the map says meanwhile; a map that disagrees holds the partition.
        self.position_shard: dict[TopicPartition, int] = {}
        self.held: dict[TopicPartition, float] = {}  # moving (or moved) to another shard: paused since
        self.halted: dict[TopicPartition, str] = {}
        metrics.HALTED.set(0)
        self.batch_lock = asyncio.Lock()
        self.cache = ShowCache()
        self._position_backoff = Backoff()

    def rebalance_listener(self) -> ConsumerRebalanceListener:
        return _Rebalance(self)

    async def all_partitions_running(self) -> bool:
        """Readiness: False while a partition is halted by a defect."""
        return not self.halted

    def await_position(self, tp: TopicPartition) -> None:
        # Its records are dropped until the stored position is read (`run` checks `positions`), then it
        # is sought there. (The listener may run while the consumer is still starting: no consumer calls.)
        self.unpositioned.add(tp)

    def forget(self, tp: TopicPartition) -> None:
        self.positions.pop(tp, None)
        self.ahead.pop(tp, None)
        self.position_shard.pop(tp, None)
        self.held.pop(tp, None)
        self.unpositioned.discard(tp)
        if self.halted.pop(tp, None) is not None:
            metrics.HALTED.set(len(self.halted))

    async def _read_positions(self) -> None:
        """Seek every newly assigned partition to the position stored on its shard (created at the log
        start the first time); while a shard does not answer, its partitions stay paused."""
        smap = self.shards.map
        tps = sorted((tp for tp in self.unpositioned if tp.partition not in smap.moving), key=lambda tp: tp.partition)
        self.consumer.pause(*self.unpositioned)  # fetch nothing for them meanwhile
        if not tps:
            return
        stored: dict[TopicPartition, tuple[int, int]] = {}
        try:
            beginnings = await self.consumer.beginning_offsets(tps)
            for tp in tps:
                shard = smap.shard_of(tp.partition)
                async with self.shards.primaries[shard].acquire() as conn:
                    try:
                        offset = await load_position(conn, self.group, tp.topic, tp.partition, beginnings[tp])
                    except PartitionPaused:
                        self._hold(tp, "its position on this shard is paused")  # the map will say where
                        continue
                stored[tp] = (shard, offset)
        except Exception as exc:
            if not is_transient(exc):
                raise
            delay = self._position_backoff.next()
            log.warning("cannot read stored positions yet, retrying", error=repr(exc), delay=delay)
            await self.lifecycle.sleep(delay)
            return
        self._position_backoff.reset()
        for tp, (shard, offset) in stored.items():
            if tp not in self.unpositioned:
                continue  # revoked meanwhile
            self.unpositioned.discard(tp)
            self.positions[tp] = offset
            self.position_shard[tp] = shard
            self._seek(tp, offset)
            self.consumer.resume(tp)
        log.info("partitions positioned", partitions={tp.partition: s for tp, (s, _) in stored.items()})

    def _hold(self, tp: TopicPartition, why: str) -> None:
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

    async def _follow_shard_map(self) -> None:
        """Hold the partitions the map moves away from their shard; release held ones once it settles."""
        smap = self.shards.map
        for tp, shard in list(self.position_shard.items()):
            if tp.partition in smap.moving or smap.shard_of(tp.partition) != shard:
                await self.settle(tp)  # the batch in flight commits (or is refused) first
                self._hold(tp, "the shard map moves it")
        now = time.monotonic()
        for tp, since in list(self.held.items()):
            if tp.partition not in smap.moving and now - since >= HOLD_RECHECK_S:
                del self.held[tp]
                self.unpositioned.add(tp)  # read again, from the shard the map names now

    async def run(self) -> None:
        """Fetch and decode the next batch of a partition while its previous batch commits: the Python work
        of one overlaps the database work of the other. A partition's batches still commit one after the
        other, each expecting the stored position its predecessor leaves; if the predecessor did not
        commit, the fence refuses the successor and the partition re-reads from the stored position."""
        try:
            while not self.lifecycle.stopping.is_set():
                if not self.shards.loaded.is_set():  # never decide on a guessed map
                    await self.lifecycle.sleep(0.1)
                    continue
                await self._follow_shard_map()
                if self.unpositioned:
                    await self._read_positions()
                epochs = dict(self.epoch)
                batches = await self.consumer.getmany(timeout_ms=200, max_records=self.batch_max)
                if not batches:
                    continue
                async with self.batch_lock:
                    # Partitions hold disjoint shows and positions: they proceed side by side.
                    await asyncio.gather(
                        *[
                            self._enqueue(tp, records, epochs.get(tp))
                            for tp, records in batches.items()
                            if tp in self.positions and tp not in self.halted
                        ]
                    )
        finally:
            for tp in list(self.inflight):
                await self.settle(tp)
        log.info("processor stopped")

    async def settle(self, tp: TopicPartition) -> None:
        task = self.inflight.pop(tp, None)
        if task is not None:
            await asyncio.shield(task)

    async def _enqueue(self, tp: TopicPartition, records: Sequence[ConsumerRecord], epoch: int | None) -> None:
        if tp not in self.ahead:  # held or revoked since the fetch (the batch in flight may hold it)
            return
        if self.epoch.get(tp) != epoch:
            # A seek happened while this batch was being fetched (an assignment, a fence): whether the
            # records came before or after it is unknown, so drop them and read again from `ahead`.
            self._seek(tp, self.ahead[tp])
            return
        expected = self.ahead[tp]
        records = [r for r in records if r.offset >= expected]
        if not records:
            return
        if records[0].offset != expected and not await self._log_start_passed(tp, expected):
            # Offsets of this topic are contiguous: a batch that does not start where we are would skip
            # commands. Never commit past them; read again from where we are.
            log.error(
                "batch does not start at the position; re-reading",
                partition=tp.partition,
                expected=expected,
                first=records[0].offset,
            )
            self._seek(tp, expected)
            return
        items: list[Item] = []
        dead: list[tuple[ConsumerRecord, str]] = []
        for record in records:
            try:
                items.append(decode_command(record.value, record.key))
            except SchemaError as exc:
                dead.append((record, str(exc)))
                salvaged = Undecidable.from_record(record.value, record.key, str(exc))
                if salvaged is not None:
                    items.append(salvaged)  # decided in its place in the order, as invalid_request
        if dead and not await self._dead_letter_records(dead):
            return  # stopping before the dead letters were acked: nothing moves past them
        next_offset = records[-1].offset + 1
        traces = [
            value.decode("utf-8", "replace")
            for r in records
            for key, value in r.headers or ()
            if key == topics.TRACE_HEADER
        ]
        await self.settle(tp)  # the predecessor commits first
        if (
            self.epoch.get(tp) != epoch
            or self.lifecycle.stopping.is_set()
            or tp not in self.positions
            or tp in self.halted
        ):
            return  # the predecessor was fenced (and re-sought) or halted, we are stopping, or it was revoked
        self.ahead[tp] = next_offset
        self.inflight[tp] = asyncio.create_task(self.process(tp, expected, next_offset, items, len(records), traces))

    async def process(
        self,
        tp: TopicPartition,
        expected: int,
        next_offset: int,
        items: list[Item],
        records: int,
        traces: list[str] | None = None,
    ) -> None:
        started = time.perf_counter()
        try:
            committed = await self._commit_with_retry(tp, expected, next_offset, items)
        except Fenced:
            metrics.FENCED.inc()
            await self._reseek(tp)
            return
        except PartitionPaused:
            self._hold(tp, "its position on this shard is paused")
            return
        except Exception as exc:  # a defect: never dead-letter good commands because of it
            self._halt(tp, expected, items, exc)
            return
        if not committed:
            return  # stopping during a retry: nothing advanced, the next owner starts here again
        self.positions[tp] = next_offset
        if self.board is not None:
            self.board.decided(tp.partition, next_offset)
        # The X-Request-Id of each HTTP request decided here: one request can be followed through the pipeline.
        log.info(
            "batch decided",
            partition=tp.partition,
            offsets=[expected, next_offset - 1],
            commands=len(items),
            request_ids=(traces or [])[:TRACES_LOGGED],
            more_request_ids=max(0, len(traces or []) - TRACES_LOGGED),
        )
        metrics.BATCH_SIZE.observe(records)
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        metrics.COMMANDS.labels("decided").inc(len(items))

    def _halt(self, tp: TopicPartition, position: int, items: list[Item], exc: BaseException) -> None:
        self.halted[tp] = repr(exc)
        self.consumer.pause(tp)
        metrics.HALTS.inc()
        metrics.HALTED.set(len(self.halted))
        log.error(
            "partition halted by a defect: no offset moves until a restart with the fix",
            partition=tp.partition,
            position=position,
            error=repr(exc),
            commands=[_describe(i) for i in items[:20]],
            commands_in_batch=len(items),
            exc_info=exc,
        )

    async def _commit_with_retry(self, tp: TopicPartition, expected: int, next_offset: int, items: list[Item]) -> bool:
        backoff = Backoff(first=0.05)
        while True:
            try:
                await self._commit(tp, expected, next_offset, items)
                return True
            except (Fenced, PartitionPaused):
                raise
            except Exception as exc:
                if not is_transient(exc):
                    if not refused_for_its_content(exc):
                        raise  # a defect: the caller halts the partition
                    log.warning(
                        "the database refused a command for its content; isolating it",
                        error=repr(exc),
                        partition=tp.partition,
                        commands=len(items),
                    )
                    if len(items) > 1:
                        return await self._commit_one_by_one(tp, expected, next_offset, items)
                    return await self._reject_for_content(tp, expected, next_offset, items[0], exc)
                metrics.RETRIES.inc()
                delay = backoff.next()
                log.warning("transient failure, retrying batch", error=repr(exc), partition=tp.partition, delay=delay)
            if await self.lifecycle.sleep(delay):
                return False

    async def _commit_one_by_one(self, tp: TopicPartition, expected: int, next_offset: int, items: list[Item]) -> bool:
        """Decide a refused batch's commands one transaction each, to find the one the database refuses.
        Every transaction but the last leaves the position where it is (the last moves it past the batch):
        after a crash in between the batch is read again, and what was decided is a no-op the second time."""
        for i, item in enumerate(items):
            target = next_offset if i == len(items) - 1 else expected
            if not await self._commit_with_retry(tp, expected, target, [item]):
                return False  # stopping
        return True

    async def _reject_for_content(
        self, tp: TopicPartition, expected: int, next_offset: int, item: Item, exc: BaseException
    ) -> bool:
        """Dead-letter the command, then decide its request `invalid_request` in its place."""
        if isinstance(item, Undecidable):
            raise Halt(f"the rejection of an undecidable command was refused: {exc!r}") from exc
        if not await self._retry_send(lambda: self._dead_letter_command(item, exc)):
            return False
        return await self._commit_with_retry(tp, expected, next_offset, [Undecidable.from_command(item, repr(exc))])

    async def _commit(self, tp: TopicPartition, expected: int, next_offset: int, items: list[Item]) -> None:
        """Optimistic first: new booking requests are not looked up (a request is decided once, so a known
        id is rare: a client retry that raced its own first attempt). If one was known, the database's unique
        key refuses the batch, nothing of it is kept, and it is decided again with every id looked up."""
        try:
            await self._commit_once(tp, expected, next_offset, items, look_up_requests=False)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name not in _BOOKING_KEYS:
                raise
            metrics.KNOWN_REQUESTS.inc()
            await self._commit_once(tp, expected, next_offset, items, look_up_requests=True)

    async def _commit_once(
        self, tp: TopicPartition, expected: int, next_offset: int, items: list[Item], look_up_requests: bool
    ) -> None:
        show_ids = list({i.show_id for i in items})
        booking_ids = list(
            {
                i.booking_id
                for i in items
                if getattr(i, "booking_id", None) and (look_up_requests or not isinstance(i, RequestBooking))
            }
        )
        rejected = [i.show_id for i in items if isinstance(i, Undecidable) and i.kind == "CreateShow"]
        phase = metrics.PHASE_SECONDS
        shard = self.position_shard.get(tp)
        if shard is None:
            raise Fenced(f"partition {tp.partition} is no longer positioned here")
        try:
            async with self.shards.primaries[shard].acquire() as conn:
                started = time.perf_counter()
                async with conn.transaction():
                    now = await claim_position(conn, self.group, tp.topic, tp.partition, expected, next_offset)
                    if not items:
                        return
                    batch = await load_batch(conn, self.cache, show_ids, booking_ids, now, rejected)
                    loaded = time.perf_counter()
                    for item in items:
                        batch.decide(item)
                    decided = time.perf_counter()
                    await write_batch(conn, batch, tp.partition)
                    written = time.perf_counter()
                committed = time.perf_counter()
            phase.labels("lock_and_load").observe(loaded - started)
            phase.labels("decide").observe(decided - loaded)
            phase.labels("write").observe(written - decided)
            phase.labels("commit").observe(committed - written)
        except BaseException:
            # The in-memory states may hold uncommitted decisions: reload them from the database next time.
            self.cache.discard(show_ids)
            raise
        for state in batch.shows.values():
            state.is_new = False
            state.seat_map.committed()
            self.cache.put(state)
        metrics.EVENTS.inc(len(batch.events))

    async def _reseek(self, tp: TopicPartition) -> None:
        shard = self.position_shard.get(tp)
        if shard is None:
            return  # held or revoked meanwhile
        backoff = Backoff()
        while True:
            try:
                async with self.shards.primaries[shard].acquire() as conn:
                    stored = await load_position(conn, self.group, tp.topic, tp.partition, 0)
                break
            except PartitionPaused:
                self._hold(tp, "its position on this shard is paused")
                return
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if await self.lifecycle.sleep(backoff.next()):
                    return  # stopping: the next owner reads the stored position anyway
        log.warning("fenced: stored position moved, re-seeking", partition=tp.partition, stored=stored)
        if tp in self.positions:  # still ours
            self.positions[tp] = stored
            self._seek(tp, stored)

    async def _log_start_passed(self, tp: TopicPartition, offset: int) -> bool:
        """True when retention deleted the log up to past `offset` (the one legitimate gap)."""
        start = (await self.consumer.beginning_offsets([tp]))[tp]
        if start > offset:
            log.warning(
                "commands deleted by retention before they were decided",
                partition=tp.partition,
                position=offset,
                log_start=start,
            )
            return True
        return False

    def _seek(self, tp: TopicPartition, offset: int) -> None:
        self.ahead[tp] = offset
        self.epoch[tp] = self.epoch.get(tp, 0) + 1
        self.consumer.seek(tp, offset)

    async def _retry_send(self, send) -> bool:
        """Run a send to the dead-letter topic until the broker acks it; False when stopping first."""
        backoff = Backoff()
        while True:
            try:
                await send()
                return True
            except Exception as exc:
                if not is_transient(exc):
                    raise
                delay = backoff.next()
                log.warning("dead-letter topic unreachable, retrying", error=repr(exc), delay=delay)
                if await self.lifecycle.sleep(delay):
                    return False

    async def _dead_letter_records(self, dead: list[tuple[ConsumerRecord, str]]) -> bool:
        async def send() -> None:
            futures = []
            for record, error in dead:
                futures.append(
                    await self.producer.send(
                        topics.COMMANDS_DLQ,
                        value=record.value,
                        key=record.key,
                        headers=[
                            ("error", error.encode()),
                            ("source_topic", record.topic.encode()),
                            ("source_partition", str(record.partition).encode()),
                            ("source_offset", str(record.offset).encode()),
                        ],
                    )
                )
            await asyncio.gather(*futures)

        for record, error in dead:
            log.warning("command to DLQ", partition=record.partition, offset=record.offset, error=error)
        if not await self._retry_send(send):
            return False
        metrics.COMMANDS.labels("dead_lettered").inc(len(dead))
        return True

    async def _dead_letter_command(self, command: Command, exc: BaseException) -> None:
        log.error("command refused by the database to DLQ", command=_describe(command), error=repr(exc))
        await self.producer.send_and_wait(
            topics.COMMANDS_DLQ,
            value=encode_command(command),
            key=command.show_id.encode(),
            headers=[("error", repr(exc).encode()), ("source_topic", self.topic.encode())],
        )
        metrics.COMMANDS.labels("dead_lettered").inc()


def _describe(item: Item) -> dict[str, str | None]:
    if isinstance(item, Undecidable):
        return {"type": f"undecidable {item.kind}", "show_id": item.show_id, "booking_id": item.booking_id}
    return {
        "type": item.type,
        "command_id": item.command_id,
        "show_id": item.show_id,
        "booking_id": getattr(item, "booking_id", None),
    }
