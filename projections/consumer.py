"""The projection consumer: applies booking.events to the live generation of the Redis read models,
one pipeline per batch. It pauses while a replay hands a new generation over (see ops/replay.py)."""
from __future__ import annotations

import secrets

import structlog
from aiokafka import AIOKafkaConsumer
from prometheus_client import Counter

from projections.apply import APPLIED, DUPLICATE, GAP, EventApplier
from projections.keys import ACTIVE_NAMESPACE_KEY, HANDOVER_KEY, PAUSED_KEY, Keys, active_namespace
from runtime.lifecycle import Lifecycle
from schemas.events import decode_event
from schemas.validation import SchemaError

log = structlog.get_logger()
APPLY_RESULTS = Counter("boxoffice_projection_events_total", "Events seen by the projections", ["result"])


def decode_events(records) -> list[dict]:
    events = []
    for record in records:
        try:
            events.append(decode_event(record.value))
        except SchemaError as exc:
            APPLY_RESULTS.labels("undecodable").inc()
            log.error("undecodable event skipped", partition=record.partition, offset=record.offset, error=str(exc))
    return events


def count_results(events: list[dict], results: list[int]) -> None:
    for event, result in zip(events, results, strict=True):
        if result == APPLIED:
            APPLY_RESULTS.labels("applied").inc()
        elif result == DUPLICATE:
            APPLY_RESULTS.labels("duplicate").inc()
        elif result == GAP:
            APPLY_RESULTS.labels("gap").inc()
            log.error("gap in show versions: event refused; run `boxoffice replay projections`",
                      show_id=event["show_id"], show_version=event["show_version"])


class ProjectionConsumer:
    def __init__(self, consumer: AIOKafkaConsumer, redis, lifecycle: Lifecycle) -> None:
        self._consumer, self._redis, self._lifecycle = consumer, redis, lifecycle
        self._applier = EventApplier(redis)
        self._instance = secrets.token_hex(6)
        self._paused = False

    async def run(self) -> None:
        while not self._lifecycle.stopping.is_set():
            active, handover = await self._redis.mget(ACTIVE_NAMESPACE_KEY, HANDOVER_KEY)
            if handover is not None:
                await self._pause()
                continue
            if self._paused:
                self._paused = False
                await self._redis.srem(PAUSED_KEY, self._instance)
                log.info("handover done, resuming", namespace=active_namespace(active))
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            records = [r for rs in batches.values() for r in rs]
            if not records:
                continue
            events = decode_events(records)
            if events:
                count_results(events, await self._applier.apply(events, Keys(active_namespace(active))))
            # Redis is derived: at-least-once is enough, duplicates are skipped on show_version.
            await self._consumer.commit()

    async def _pause(self) -> None:
        if not self._paused:
            log.info("replay handing over a new generation: pausing")
            self._paused = True
        await self._redis.sadd(PAUSED_KEY, self._instance)
        await self._lifecycle.sleep(0.1)
