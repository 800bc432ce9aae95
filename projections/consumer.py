"""The projection consumer: applies booking.events to the live generation of the Redis read models,
one pipeline per batch. It pauses while a replay hands a new generation over (see ops/replay.py).

Redis or Kafka going away is transient: the batch in hand is kept and applied again once Redis answers
(applying is idempotent on show_version), and the offsets are committed only after it was applied.
"""

from __future__ import annotations

import secrets

import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from prometheus_client import Counter

from projections.apply import APPLIED, DUPLICATE, GAP, EventApplier
from projections.keys import ACTIVE_NAMESPACE_KEY, HANDOVER_KEY, PAUSED_KEY, Keys, active_namespace
from runtime.commit_pace import CommitPace
from runtime.lifecycle import Lifecycle
from runtime.retry import Retry, Stopped
from schemas.events import Event, decode_event
from schemas.validation import SchemaError

log = structlog.get_logger()
APPLY_RESULTS = Counter("boxoffice_projection_events_total", "Events seen by the projections", ["result"])


def decode_events(records) -> list[Event]:
    events = []
    for record in records:
        try:
            events.append(decode_event(record.value))
        except SchemaError as exc:
            APPLY_RESULTS.labels("undecodable").inc()
            log.error("undecodable event skipped", partition=record.partition, offset=record.offset, error=str(exc))
    return events


def count_results(events: list[Event], results: list[int]) -> None:
    for event, result in zip(events, results, strict=True):
        if result == APPLIED:
            APPLY_RESULTS.labels("applied").inc()
        elif result == DUPLICATE:
            APPLY_RESULTS.labels("duplicate").inc()
        elif result == GAP:
            APPLY_RESULTS.labels("gap").inc()
            log.error(
                "gap in show versions: event refused; run `boxoffice replay projections`",
                show_id=event.show_id,
                show_version=event.show_version,
            )


class ProjectionConsumer:
    def __init__(
        self, consumer: AIOKafkaConsumer, redis, lifecycle: Lifecycle, applier: EventApplier | None = None
    ) -> None:
        self._consumer, self._redis, self._lifecycle = consumer, redis, lifecycle
        self._applier = applier or EventApplier(redis)
        self._instance = secrets.token_hex(6)
        self._paused = False
        self._pending: list[Event] | None = None  # fetched, not yet applied
        self._pending_positions: dict[int, int] = {}  # partition -> next offset after the batch in hand
        # Read the generation's stored positions before the next batch: at the start, after a rebalance, and
        # after any failure (Redis may have failed over and lost its newest writes).
        self._resync = True
        self._assigned: set = set()
        self._pace = CommitPace()  # offsets committed at most once a second under load (runtime/commit_pace.py)
        self._uncommitted = False

    async def run(self, burst: bool = False) -> None:
        """Apply batches until stopping (`burst`: until a fetch finds nothing, for tests). A step that fails
        for Redis or Kafka keeps its batch in hand and is retried by the one retry primitive."""
        retry = Retry("read models", self._lifecycle)
        try:
            while not self._lifecycle.stopping.is_set():
                try:
                    fetched = await retry.run(self._step_or_resync)
                except Stopped:
                    return
                if burst and not fetched and not self._paused:
                    return
        finally:
            if self._uncommitted:  # stopping: what was applied is committed (else: applied again, a no-op)
                await self._commit()

    async def _step_or_resync(self) -> bool:
        try:
            return await self._step()
        except Exception:
            self._resync = True
            raise

    async def _step(self) -> bool:
        """One batch applied (True), or nothing fetched / paused for a handover (False)."""
        active, handover = await self._redis.mget(ACTIVE_NAMESPACE_KEY, HANDOVER_KEY)
        if handover is not None:
            await self._pause()
            return False
        if self._paused:
            await self._redis.srem(PAUSED_KEY, self._instance)
            self._paused = False
            log.info("handover done, resuming", namespace=active_namespace(active))
        keys = Keys(active_namespace(active))
        assigned = self._consumer.assignment()
        if self._resync or assigned != self._assigned:
            await self._rewind_to_stored(keys, assigned)
        if self._pending is None:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            records = [r for rs in batches.values() for r in rs]
            if not records:
                if self._uncommitted and self._pace.due(fetched=False):
                    await self._commit()
                return False
            self._pending = decode_events(records)
            self._pending_positions = {tp.partition: rs[-1].offset + 1 for tp, rs in batches.items() if rs}
        if self._pending or self._pending_positions:
            results = await self._applier.apply(self._pending, keys, self._pending_positions)
            count_results(self._pending, results)
        self._pending, self._pending_positions = None, {}
        self._uncommitted = True
        if self._pace.due(fetched=True):
            await self._commit()
        return True

    async def _commit(self) -> None:
        try:
            # Redis is derived: at-least-once is enough, what is applied again is skipped on show_version.
            await self._pace.commit(self._consumer)  # bounded (runtime/commit_pace.py)
            self._uncommitted = False
        except (KafkaError, TimeoutError) as exc:
            log.warning("offset commit failed; those events may be applied again (a no-op)", error=repr(exc))

    async def _rewind_to_stored(self, keys: Keys, assigned: set) -> None:
        """Seek back to where the generation in Redis says it stands, wherever that is behind this consumer: a
        Redis failover loses the newest writes (asynchronous replication), and their positions with them, so the
        events they carried are applied again (a no-op where they did survive: applying is idempotent on
        show_version). Forward is left to Kafka's committed offsets."""
        stored = await self._redis.hgetall(keys.positions())
        for tp in assigned:
            position = stored.get(str(tp.partition).encode())
            if position is None:
                # Nothing of this partition in the generation (Redis lost it all, or a generation from before
                # positions were stored): rebuild it from the start of booking.events.
                if await self._consumer.position(tp) > 0:
                    log.warning(
                        "read models hold no position for this partition: applying it from the start",
                        partition=tp.partition,
                    )
                    self._consumer.seek_to_beginning(tp)
                    self._pending, self._pending_positions = None, {}
                continue
            if int(position) < await self._consumer.position(tp):
                log.warning(
                    "read models behind this consumer (Redis failed over?): applying again",
                    partition=tp.partition,
                    from_offset=int(position),
                )
                self._consumer.seek(tp, int(position))
                self._pending, self._pending_positions = None, {}  # fetched past it: fetched again
        self._assigned, self._resync = set(assigned), False

    async def _pause(self) -> None:
        if not self._paused:
            log.info("replay handing over a new generation: pausing")
            self._paused = True
        await self._redis.sadd(PAUSED_KEY, self._instance)
        await self._lifecycle.sleep(0.1)
