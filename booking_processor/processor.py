"""The command consumer's fetch pipeline: one transaction per partition batch.

Per batch: move the stored position (fencing), lock the batch's shows in sorted order, decide every command
in order in memory, write bookings, seats, outbox events and the new position, commit once. The stored
position, not Kafka's committed offset, is where a partition resumes.

The parts, each in a module of its own:
- assignment.py: which partitions are decided here, where each resumes, holds (a partition moving between
  shards) and halts; the rebalance listener;
- committer.py: a batch committed whatever the database says — transient failures retried, a command the
  database refuses for its content isolated and dead-lettered, Fenced and defects raised;
- dead_letters.py: booking.commands.dlq;
- decisions.py: the port the batch is committed through (PostgreSQL in production, a twin in unit tests);
- this module: fetch, decode, hand each partition's batch to the committer while the next one is fetched.

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

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from booking_processor import metrics
from booking_processor.assignment import Assignment, Rebalance
from booking_processor.committer import Committer
from booking_processor.dead_letters import DeadLetters, describe
from booking_processor.decisions import Decisions, Item, PgDecisions
from booking_processor.positions import PositionBoard
from booking_processor.store import Fenced, PartitionPaused
from booking_processor.undecidable import Undecidable
from runtime.lifecycle import Lifecycle
from runtime.retry import Stopped
from runtime.shards import Shards
from schemas import topics
from schemas.commands import decode_command
from schemas.validation import SchemaError

log = structlog.get_logger()
TRACES_LOGGED = 200


class CommandProcessor:
    def __init__(
        self,
        shards: Shards,
        producer: AIOKafkaProducer,
        group: str,
        batch_max: int,
        lifecycle: Lifecycle,
        topic: str = topics.COMMANDS,
        board: PositionBoard | None = None,
        decisions: Decisions | None = None,
    ) -> None:
        self.shards, self.producer, self.board = shards, producer, board
        self.group, self.batch_max, self.lifecycle, self.topic = group, batch_max, lifecycle, topic
        self.decisions = decisions or PgDecisions(shards)
        self.assignment = Assignment(self.decisions, group, lifecycle)
        self.dead_letters = DeadLetters(producer, topic, lifecycle)
        self.committer = Committer(self.decisions, self.dead_letters, group, lifecycle)
        self.inflight: dict[TopicPartition, asyncio.Task[None]] = {}
        self.batch_lock = asyncio.Lock()

    @property
    def consumer(self) -> AIOKafkaConsumer:
        return self.assignment.consumer

    @consumer.setter
    def consumer(self, consumer: AIOKafkaConsumer) -> None:  # subscribed with `rebalance_listener()`
        self.assignment.consumer = consumer

    @property
    def halted(self) -> dict[TopicPartition, str]:
        return self.assignment.halted

    def rebalance_listener(self) -> ConsumerRebalanceListener:
        return Rebalance(self.assignment, self.batch_lock, self.settle)

    async def all_partitions_running(self) -> bool:
        """Readiness: False while a partition is halted by a defect."""
        return not self.assignment.halted

    async def run(self, burst: bool = False) -> None:
        """Fetch and decode the next batch of a partition while its previous batch commits: the Python work
        of one overlaps the database work of the other. A partition's batches still commit one after the
        other, each expecting the stored position its predecessor leaves; if the predecessor did not
        commit, the fence refuses the successor and the partition re-reads from the stored position.

        `burst`: return once every assigned partition is positioned and a fetch finds nothing (tests)."""
        assignment = self.assignment
        try:
            while not self.lifecycle.stopping.is_set():
                if not self.shards.loaded.is_set():  # never decide on a guessed map
                    await self.lifecycle.sleep(0.1)
                    continue
                await assignment.follow(self.shards.map, self.settle)
                if assignment.unpositioned:
                    await assignment.position_new(self.shards.map)
                epochs = dict(assignment.epoch)
                batches = await self.consumer.getmany(timeout_ms=200, max_records=self.batch_max)
                if not batches:
                    if burst and not assignment.unpositioned and not any(not t.done() for t in self.inflight.values()):
                        break
                    continue
                async with self.batch_lock:
                    # Partitions hold disjoint shows and positions: they proceed side by side.
                    await asyncio.gather(
                        *[
                            self._enqueue(tp, records, epochs.get(tp))
                            for tp, records in batches.items()
                            if assignment.deciding(tp)
                        ]
                    )
        finally:
            for tp in list(self.inflight):
                await self.settle(tp)
            await assignment.close()
        log.info("processor stopped")

    async def settle(self, tp: TopicPartition) -> None:
        task = self.inflight.pop(tp, None)
        if task is not None:
            await asyncio.shield(task)

    async def _enqueue(self, tp: TopicPartition, records: Sequence[ConsumerRecord], epoch: int | None) -> None:
        assignment = self.assignment
        if tp not in assignment.ahead:  # held or revoked since the fetch (the batch in flight may hold it)
            return
        if assignment.epoch.get(tp) != epoch:
            # A seek happened while this batch was being fetched (an assignment, a fence): whether the
            # records came before or after it is unknown, so drop them and read again from `ahead`.
            assignment.seek(tp, assignment.ahead[tp])
            return
        expected = assignment.ahead[tp]
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
            assignment.seek(tp, expected)
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
        if dead:
            try:
                await self.dead_letters.records(dead)
            except Stopped:
                return  # stopping before the dead letters were acked: nothing moves past them
        next_offset = records[-1].offset + 1
        traces = [
            value.decode("utf-8", "replace")
            for r in records
            for key, value in r.headers or ()
            if key == topics.TRACE_HEADER
        ]
        await self.settle(tp)  # the predecessor commits first
        if assignment.epoch.get(tp) != epoch or self.lifecycle.stopping.is_set() or not assignment.deciding(tp):
            return  # the predecessor was fenced (and re-sought) or halted, we are stopping, or it was revoked
        assignment.ahead[tp] = next_offset
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
        assignment = self.assignment
        shard = assignment.position_shard.get(tp)
        try:
            if shard is None:
                raise Fenced(f"partition {tp.partition} is no longer positioned here")
            committed = await self.committer.commit(shard, tp, expected, next_offset, items)
        except Fenced:
            metrics.FENCED.inc()
            await assignment.reseek(tp)
            return
        except PartitionPaused:
            assignment.hold(tp, "its position on this shard is paused")
            return
        except Exception as exc:  # a defect: never dead-letter good commands because of it
            self._halt(tp, expected, items, exc)
            return
        if not committed:
            return  # stopping during a retry: nothing advanced, the next owner starts here again
        assignment.positions[tp] = next_offset
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
        self.assignment.halt(tp, repr(exc))
        log.error(
            "partition halted by a defect: no offset moves until a restart with the fix",
            partition=tp.partition,
            position=position,
            error=repr(exc),
            commands=[describe(i) for i in items[:20]],
            commands_in_batch=len(items),
            exc_info=exc,
        )

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
