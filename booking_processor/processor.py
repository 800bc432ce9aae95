"""The command consumer: one transaction per partition batch.

Per batch: move the stored position (fencing), lock the batch's shows in sorted order, decide every command
in order in memory, write bookings, seats, outbox events and the new position, commit once. The stored
position, not Kafka's committed offset, is where a partition resumes.
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
from booking_processor.store import (
    Fenced,
    IntegrityViolation,
    ShowCache,
    claim_position,
    load_batch,
    load_position,
    write_batch,
)
from runtime.lifecycle import Lifecycle
from schemas import topics
from schemas.commands import Command, RequestBooking, decode_command, encode_command
from schemas.validation import SchemaError

log = structlog.get_logger()

TRANSIENT = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)


_BOOKING_KEYS = frozenset({"bookings_pkey", "bookings_request_id_key"})


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, processor: CommandProcessor) -> None:
        self._processor = processor

    async def on_partitions_revoked(self, revoked) -> None:
        # Let the batches in flight commit (or fail), then forget the partitions.
        async with self._processor.batch_lock:
            for tp in revoked:
                await self._processor.settle(tp)
                self._processor.positions.pop(tp, None)
                self._processor.ahead.pop(tp, None)

    async def on_partitions_assigned(self, assigned) -> None:
        await self._processor.resume(assigned)


class CommandProcessor:
    def __init__(self, pool: asyncpg.Pool, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer,
                 group: str, batch_max: int, lifecycle: Lifecycle) -> None:
        self.pool, self.consumer, self.producer = pool, consumer, producer
        self.group, self.batch_max, self.lifecycle = group, batch_max, lifecycle
        self.positions: dict[TopicPartition, int] = {}  # the stored position, as last committed or read
        self.ahead: dict[TopicPartition, int] = {}  # where the next batch starts (after the one in flight)
        self.inflight: dict[TopicPartition, asyncio.Task] = {}
        # Bumped by every seek: a batch fetched before a seek is stale and is dropped, never committed.
        self.epoch: dict[TopicPartition, int] = {}
        self.batch_lock = asyncio.Lock()
        self.cache = ShowCache()

    def subscribe(self) -> None:
        self.consumer.subscribe([topics.COMMANDS], listener=_Rebalance(self))

    async def resume(self, assigned) -> None:
        """Seek every assigned partition to the position stored in PostgreSQL (created at the log start)."""
        assigned = list(assigned)
        if not assigned:
            return
        beginnings = await self.consumer.beginning_offsets(assigned)
        async with self.pool.acquire() as conn:
            for tp in assigned:
                stored = await load_position(conn, self.group, tp.topic, tp.partition, beginnings[tp])
                self.positions[tp] = stored
                self._seek(tp, stored)
        log.info("partitions assigned", partitions=sorted(tp.partition for tp in assigned))

    async def run(self) -> None:
        """Fetch and decode the next batch of a partition while its previous batch commits: the Python work
        of one overlaps the database work of the other. A partition's batches still commit one after the
        other, each expecting the stored position its predecessor leaves; if the predecessor did not
        commit, the fence refuses the successor and the partition re-reads from the stored position."""
        try:
            while not self.lifecycle.stopping.is_set():
                epochs = dict(self.epoch)
                batches = await self.consumer.getmany(timeout_ms=200, max_records=self.batch_max)
                if not batches:
                    continue
                async with self.batch_lock:
                    # Partitions hold disjoint shows and positions: they proceed side by side.
                    await asyncio.gather(*[self._enqueue(tp, records, epochs.get(tp))
                                           for tp, records in batches.items()
                                           if tp in self.positions])  # a revoked partition is its new owner's
        finally:
            for tp in list(self.inflight):
                await self.settle(tp)
        log.info("processor stopped")

    async def settle(self, tp: TopicPartition) -> None:
        task = self.inflight.pop(tp, None)
        if task is not None:
            await asyncio.shield(task)

    async def _enqueue(self, tp: TopicPartition, records: Sequence[ConsumerRecord], epoch: int | None) -> None:
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
            log.error("batch does not start at the position; re-reading", partition=tp.partition,
                      expected=expected, first=records[0].offset)
            self._seek(tp, expected)
            return
        commands: list[Command] = []
        dead: list[tuple[ConsumerRecord, str]] = []
        for record in records:
            try:
                commands.append(decode_command(record.value, record.key))
            except SchemaError as exc:
                dead.append((record, str(exc)))
        if dead:
            await self.dead_letter(dead)  # acked before any position can move past them
        next_offset = records[-1].offset + 1
        await self.settle(tp)  # the predecessor commits first
        if self.epoch.get(tp) != epoch or self.lifecycle.stopping.is_set() or tp not in self.positions:
            return  # the predecessor was fenced (and re-sought), we are stopping, or the partition was revoked
        self.ahead[tp] = next_offset
        self.inflight[tp] = asyncio.create_task(self.process(tp, expected, next_offset, commands, len(records)))

    async def process(self, tp: TopicPartition, expected: int, next_offset: int, commands: list[Command],
                      records: int) -> None:
        started = time.perf_counter()
        try:
            committed = await self._commit_with_retry(tp, expected, next_offset, commands)
        except Fenced:
            metrics.FENCED.inc()
            await self._reseek(tp)
            return
        if not committed:
            return  # stopping during a retry: nothing advanced, the next owner starts here again
        self.positions[tp] = next_offset
        metrics.BATCH_SIZE.observe(records)
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        metrics.COMMANDS.labels("decided").inc(len(commands))

    async def _commit_with_retry(self, tp: TopicPartition, expected: int, next_offset: int,
                                 commands: list[Command]) -> bool:
        delay = 0.05
        while True:
            try:
                await self._commit(tp, expected, next_offset, commands)
                return True
            except Fenced:
                raise
            except TRANSIENT as exc:
                metrics.RETRIES.inc()
                log.warning("transient failure, retrying batch", error=repr(exc), partition=tp.partition,
                            delay=delay)
            except (asyncpg.PostgresError, IntegrityViolation, Exception) as exc:  # undecidable input, or a bug
                log.error("batch failed, deciding its commands one at a time", error=repr(exc),
                          partition=tp.partition, commands=len(commands))
                if len(commands) <= 1:
                    await self._skip_undecidable(tp, expected, next_offset, commands, exc)
                    return True
                return await self._commit_one_by_one(tp, expected, next_offset, commands)
            if await self.lifecycle.sleep(delay):
                return False
            delay = min(delay * 2, 5.0)

    async def _commit_one_by_one(self, tp: TopicPartition, expected: int, next_offset: int,
                                 commands: list[Command]) -> bool:
        """Decide a failed batch's commands one transaction each; the one that fails alone goes to the DLQ.
        Every transaction but the last leaves the position where it is (the last moves it past the batch):
        after a crash in between the batch is read again, and what was decided is a no-op the second time."""
        for i, command in enumerate(commands):
            target = next_offset if i == len(commands) - 1 else expected
            if not await self._commit_with_retry(tp, expected, target, [command]):
                return False  # stopping
        return True

    async def _skip_undecidable(self, tp: TopicPartition, expected: int, next_offset: int,
                                commands: list[Command], exc: BaseException) -> None:
        for command in commands:
            await self._dead_letter_command(command, exc)
        async with self.pool.acquire() as conn, conn.transaction():
            await claim_position(conn, self.group, tp.topic, tp.partition, expected, next_offset)

    async def _commit(self, tp: TopicPartition, expected: int, next_offset: int,
                      commands: list[Command]) -> None:
        """Optimistic first: new booking requests are not looked up (a request is decided once, so a known
        id is rare: a client retry that raced its own first attempt). If one was known, the database's unique
        key refuses the batch, nothing of it is kept, and it is decided again with every id looked up."""
        try:
            await self._commit_once(tp, expected, next_offset, commands, look_up_requests=False)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name not in _BOOKING_KEYS:
                raise
            metrics.KNOWN_REQUESTS.inc()
            await self._commit_once(tp, expected, next_offset, commands, look_up_requests=True)

    async def _commit_once(self, tp: TopicPartition, expected: int, next_offset: int, commands: list[Command],
                           look_up_requests: bool) -> None:
        show_ids = list({c.show_id for c in commands})
        booking_ids = list({c.booking_id for c in commands
                            if hasattr(c, "booking_id") and (look_up_requests or not isinstance(c, RequestBooking))})
        phase = metrics.PHASE_SECONDS
        try:
            async with self.pool.acquire() as conn:
                started = time.perf_counter()
                async with conn.transaction():
                    now = await claim_position(conn, self.group, tp.topic, tp.partition, expected, next_offset)
                    if not commands:
                        return
                    batch = await load_batch(conn, self.cache, show_ids, booking_ids, now)
                    loaded = time.perf_counter()
                    for command in commands:
                        batch.decide(command)
                    decided = time.perf_counter()
                    await write_batch(conn, batch)
                    written = time.perf_counter()
                committed = time.perf_counter()
            phase.labels("lock_and_load").observe(loaded - started)
            phase.labels("decide").observe(decided - loaded)
            phase.labels("write").observe(written - decided)
            phase.labels("commit").observe(committed - written)
            log.debug("batch committed", partition=tp.partition, commands=len(commands),
                      load_ms=round((loaded - started) * 1000, 1), decide_ms=round((decided - loaded) * 1000, 1),
                      write_ms=round((written - decided) * 1000, 1), commit_ms=round((committed - written) * 1000, 1))
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
        async with self.pool.acquire() as conn:
            stored = await load_position(conn, self.group, tp.topic, tp.partition, 0)
        log.warning("fenced: stored position moved, re-seeking", partition=tp.partition, stored=stored)
        if tp in self.positions:  # still ours
            self.positions[tp] = stored
            self._seek(tp, stored)

    async def _log_start_passed(self, tp: TopicPartition, offset: int) -> bool:
        """True when retention deleted the log up to past `offset` (the one legitimate gap)."""
        start = (await self.consumer.beginning_offsets([tp]))[tp]
        if start > offset:
            log.warning("commands deleted by retention before they were decided", partition=tp.partition,
                        position=offset, log_start=start)
            return True
        return False

    def _seek(self, tp: TopicPartition, offset: int) -> None:
        self.ahead[tp] = offset
        self.epoch[tp] = self.epoch.get(tp, 0) + 1
        self.consumer.seek(tp, offset)

    async def dead_letter(self, dead: list[tuple[ConsumerRecord, str]]) -> None:
        futures = []
        for record, error in dead:
            log.warning("command to DLQ", partition=record.partition, offset=record.offset, error=error)
            futures.append(await self.producer.send(
                topics.COMMANDS_DLQ, value=record.value, key=record.key,
                headers=[("error", error.encode()), ("source_topic", record.topic.encode()),
                         ("source_partition", str(record.partition).encode()),
                         ("source_offset", str(record.offset).encode())],
            ))
        await asyncio.gather(*futures)
        metrics.COMMANDS.labels("dead_lettered").inc(len(dead))

    async def _dead_letter_command(self, command: Command, exc: BaseException) -> None:
        log.error("undecidable command to DLQ", command_id=command.command_id, error=repr(exc))
        await self.producer.send_and_wait(
            topics.COMMANDS_DLQ, value=encode_command(command), key=command.show_id.encode(),
            headers=[("error", repr(exc).encode())],
        )
        metrics.COMMANDS.labels("dead_lettered").inc()
