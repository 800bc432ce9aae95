"""python -m booking_processor: the command consumer (the outbox relay runs as booking_processor.relay_main)."""

from __future__ import annotations

import asyncio

from booking_processor.positions import PositionBoard
from booking_processor.processor import CommandProcessor
from runtime.clients import BATCHING_FETCH
from runtime.service import Service, run_service
from schemas import topics


async def main(service: Service) -> None:
    settings = service.settings
    # A transaction waits at most 5 s for a show's row lock (set per session: no extra round trip per batch).
    shards = await service.shards(size=4, topic=settings.processor_topic, server_settings={"lock_timeout": "5s"})
    producer = await service.kafka_producer()
    # Not part of readiness: decisions do not need Redis, only the place-in-line answers do. Only for
    # booking.commands: a bench drain on a topic of its own must not overwrite the live partitions' places.
    board = PositionBoard(service.redis(ready_needs_it=False)) if settings.processor_topic == topics.COMMANDS else None
    processor = CommandProcessor(
        shards,
        producer,
        settings.processor_group,
        settings.processor_batch_max,
        service.lifecycle,
        topic=settings.processor_topic,
        board=board,
    )
    processor.consumer = await service.kafka_consumer(
        processor.topic,
        group_id=settings.processor_group,
        listener=processor.rebalance_listener(),
        max_partition_fetch_bytes=8 * 1024 * 1024,
        **BATCHING_FETCH,
    )
    service.check("partitions", processor.all_partitions_running)
    publishing = asyncio.create_task(board.run(service.lifecycle)) if board else None
    try:
        await processor.run()
    finally:
        service.lifecycle.stop()  # a processor that failed takes the process down with it (and the board)
        if publishing is not None:
            await publishing


if __name__ == "__main__":
    run_service("booking_processor", main)
