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

    async def run(self, burst: bool = False) -> None:
        """Apply batches until stopping (`burst`: until a fetch finds nothing, for tests). A step that fails
        for Redis or Kafka keeps its batch in hand and is retried by the one retry primitive."""
        retry = Retry("read models", self._lifecycle)
        while not self._lifecycle.stopping.is_set():
            try:
                fetched = await retry.run(self._step)
            except Stopped:
                return
            if burst and not fetched and not self._paused:
                return

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
        if self._pending is None:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            records = [r for rs in batches.values() for r in rs]
            if not records:
                return False
            self._pending = decode_events(records)
        if self._pending:
            count_results(self._pending, await self._applier.apply(self._pending, Keys(active_namespace(active))))
        self._pending = None
        try:
            # Redis is derived: at-least-once is enough, what is applied again is skipped on show_version.
            await self._consumer.commit()
        except KafkaError as exc:
            log.warning("offset commit failed; those events may be applied again (a no-op)", error=repr(exc))
        return True

    async def _pause(self) -> None:
        if not self._paused:
            log.info("replay handing over a new generation: pausing")
            self._paused = True
        await self._redis.sadd(PAUSED_KEY, self._instance)
        await self._lifecycle.sleep(0.1)
