"""booking.commands.dlq: what could not be decoded, or what the database refused for its content, with the reason.

A dead letter is sent before the partition moves past its command, and retried (the one retry primitive)
until the broker acks it: nothing is skipped silently. `Stopped` when the service stops first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from booking_processor import metrics
from booking_processor.undecidable import Undecidable
from runtime.lifecycle import Lifecycle
from runtime.retry import Retry
from schemas import topics
from schemas.commands import Command, encode_command

log = structlog.get_logger()


class DeadLetters:
    def __init__(self, producer: AIOKafkaProducer, source_topic: str, lifecycle: Lifecycle) -> None:
        self._producer, self._source_topic = producer, source_topic
        self._retry = Retry("dead-letter topic", lifecycle)

    async def records(self, dead: Sequence[tuple[ConsumerRecord, str]]) -> None:
        """Messages the contract refused, as they came, with the error and where they came from."""
        for record, error in dead:
            log.warning("command to DLQ", partition=record.partition, offset=record.offset, error=error)

        async def send() -> None:
            futures = []
            for record, error in dead:
                futures.append(
                    await self._producer.send(
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

        await self._retry.run(send)
        metrics.COMMANDS.labels("dead_lettered").inc(len(dead))

    async def command(self, command: Command, exc: BaseException) -> None:
        """A decoded command the database refused for its content."""
        log.error("command refused by the database to DLQ", command=describe(command), error=repr(exc))
        await self._retry.run(
            lambda: self._producer.send_and_wait(
                topics.COMMANDS_DLQ,
                value=encode_command(command),
                key=command.show_id.encode(),
                headers=[("error", repr(exc).encode()), ("source_topic", self._source_topic.encode())],
            )
        )
        metrics.COMMANDS.labels("dead_lettered").inc()


def describe(item: object) -> dict[str, str | None]:
    """A command (or what an undecidable one still says) in a log line."""
    if isinstance(item, Undecidable):
        return {"type": f"undecidable {item.kind}", "show_id": item.show_id, "booking_id": item.booking_id}
    return {
        "type": getattr(item, "type", None),
        "command_id": getattr(item, "command_id", None),
        "show_id": getattr(item, "show_id", None),
        "booking_id": getattr(item, "booking_id", None),
    }
