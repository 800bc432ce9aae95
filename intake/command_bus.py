"""Publishing commands: the idempotent producer, started in the background (by the runner's start-up retry)
so the intake comes up, and reports not ready, while Kafka is down; a send answers only after the broker
acked, or raises 503."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import NamedTuple

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from intake.errors import unavailable
from runtime.clients import kafka_answers
from runtime.service import Stopping
from schemas import topics
from schemas.commands import Command, checked_encoding

log = structlog.get_logger()


class Placement(NamedTuple):
    partition: int
    offset: int


SEND_TIMEOUT_S = 5.0


class CommandBus:
    def __init__(self) -> None:
        self._producer: AIOKafkaProducer | None = None
        self._starting: asyncio.Task[None] | None = None

    def start(self, started: Callable[[], Awaitable[AIOKafkaProducer]]) -> None:
        """`started()` in the background: a started producer (Service.kafka_producer waits out Kafka with the
        one retry primitive, and stops the producer at shutdown); until then a send answers 503."""

        async def attach() -> None:
            try:
                producer = await started()
            except Stopping:
                return
            except Exception:  # not the weather (that is retried): a defect; the intake stays not ready
                log.error("kafka producer cannot start", exc_info=True)
                return
            self._producer = producer
            log.info("kafka producer started")

        self._starting = asyncio.create_task(attach())

    async def stop(self) -> None:
        """No more waiting for Kafka (the producer itself, once started, is stopped by whoever started it)."""
        if self._starting is not None:
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starting

    async def ready(self) -> bool:
        return self._producer is not None and await kafka_answers(self._producer.client)

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
