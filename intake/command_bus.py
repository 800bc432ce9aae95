"""Publishing commands: the idempotent producer, started in the background so the intake comes up (and
reports not ready) while Kafka is down; a send answers only after the broker acked, or raises 503."""

from __future__ import annotations

import asyncio
import contextlib
from typing import NamedTuple

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from intake.errors import unavailable
from schemas import topics
from schemas.commands import Command, checked_encoding

log = structlog.get_logger()


class Placement(NamedTuple):
    partition: int
    offset: int


SEND_TIMEOUT_S = 5.0


class CommandBus:
    def __init__(self, make_producer) -> None:
        self._make_producer = make_producer
        self._producer: AIOKafkaProducer | None = None
        self._starter: asyncio.Task | None = None

    def start(self) -> None:
        self._starter = asyncio.create_task(self._start_forever())

    async def _start_forever(self) -> None:
        delay = 0.5
        while True:
            producer = self._make_producer()
            try:
                await producer.start()
                self._producer = producer
                log.info("kafka producer started")
                return
            except KafkaError as exc:
                log.warning("kafka unavailable, retrying", error=repr(exc), delay=delay)
                with contextlib.suppress(Exception):
                    await producer.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def stop(self) -> None:
        if self._starter is not None and not self._starter.done():
            self._starter.cancel()
        if self._producer is not None:
            await self._producer.stop()  # flushes what is buffered

    async def ready(self) -> bool:
        if self._producer is None:
            return False
        await asyncio.wait_for(self._producer.client.fetch_all_metadata(), 2)
        return True

    async def send(self, command: Command, trace_id: str | None = None) -> Placement:
        """Publish and wait for the broker's ack; where the command landed (partition, offset). `trace_id`
        (the request's X-Request-Id) travels as a header so that the processor's log lines can be matched
        to the HTTP request."""
        raw = checked_encoding(command)  # the processor's own decoder takes it, or this is a defect
        if self._producer is None:
            raise unavailable("the command log (Kafka) is not reachable yet")
        headers = [(topics.TRACE_HEADER, trace_id.encode())] if trace_id else None
        try:
            acked = await asyncio.wait_for(
                self._producer.send_and_wait(topics.COMMANDS, raw, key=command.show_id.encode(), headers=headers),
                SEND_TIMEOUT_S,
            )
        except (KafkaError, TimeoutError) as exc:
            log.warning("command not acked", error=repr(exc), command_type=command.type)
            raise unavailable("the command log (Kafka) did not acknowledge the request; retry it") from None
        return Placement(acked.partition, acked.offset)
