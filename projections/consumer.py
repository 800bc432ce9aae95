"""The projection consumer: applies booking.events to Redis in batches, one pipeline per batch."""
from __future__ import annotations

import structlog
from aiokafka import AIOKafkaConsumer
from prometheus_client import Counter

from projections.apply import APPLIED, DUPLICATE, GAP, EventApplier
from runtime.lifecycle import Lifecycle
from schemas.events import decode_event
from schemas.validation import SchemaError

log = structlog.get_logger()
APPLY_RESULTS = Counter("boxoffice_projection_events_total", "Events seen by the projections", ["result"])


class ProjectionConsumer:
    def __init__(self, consumer: AIOKafkaConsumer, redis, applier: EventApplier, lifecycle: Lifecycle) -> None:
        self._consumer, self._redis, self._applier, self._lifecycle = consumer, redis, applier, lifecycle

    async def run(self) -> None:
        while not self._lifecycle.stopping.is_set():
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            if not batches:
                continue
            await self.apply([r for records in batches.values() for r in records])
            # Redis is derived: at-least-once is enough, duplicates are skipped on show_version.
            await self._consumer.commit()

    async def apply(self, records) -> None:
        events = []
        for record in records:
            try:
                events.append(decode_event(record.value))
            except SchemaError as exc:
                APPLY_RESULTS.labels("undecodable").inc()
                log.error("undecodable event skipped", partition=record.partition, offset=record.offset,
                          error=str(exc))
        if not events:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                await self._applier.queue(pipe, event)
            results = await pipe.execute()
        for event, result in zip(events, results, strict=True):
            if result == APPLIED:
                APPLY_RESULTS.labels("applied").inc()
            elif result == DUPLICATE:
                APPLY_RESULTS.labels("duplicate").inc()
            elif result == GAP:
                APPLY_RESULTS.labels("gap").inc()
                log.error("gap in show versions: event refused; run `boxoffice replay projections`",
                          show_id=event["show_id"], show_version=event["show_version"])
