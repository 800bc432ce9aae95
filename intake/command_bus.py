"""Publishing commands: the idempotent producer, started in the background so the intake comes up (and
reports not ready) while Kafka is down; a send answers only after the broker acked, or raises 503."""
from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from intake.errors import unavailable
from schemas import topics
from schemas.commands import Command, encode_command

log = structlog.get_logger()
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

    async def send(self, command: Command) -> None:
        if self._producer is None:
            raise unavailable("the command log (Kafka) is not reachable yet")
        try:
            await asyncio.wait_for(
                self._producer.send_and_wait(topics.COMMANDS, encode_command(command),
                                             key=command.show_id.encode()),
                SEND_TIMEOUT_S,
            )
        except (KafkaError, TimeoutError) as exc:
            log.warning("command not acked", error=repr(exc), command_type=command.TYPE)
            raise unavailable("the command log (Kafka) did not acknowledge the request; retry it") from None
