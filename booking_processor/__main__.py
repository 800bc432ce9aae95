"""python -m booking_processor: the command consumer and the outbox relay in one process."""
from __future__ import annotations

import asyncio

from booking_processor.processor import CommandProcessor
from booking_processor.relay import OutboxRelay
from runtime.clients import kafka_consumer, kafka_producer, pg_connect, pg_pool
from runtime.lifecycle import Lifecycle, run_worker
from runtime.logging import configure_logging
from runtime.ops_server import OpsServer
from runtime.settings import Settings


async def main(lifecycle: Lifecycle) -> None:
    settings = Settings.from_env()
    log = configure_logging("booking_processor", settings.log_level)
    pool = await pg_pool(settings, size=4)
    producer = kafka_producer(settings)
    await producer.start()
    consumer = kafka_consumer(settings, group_id=settings.processor_group,
                              max_partition_fetch_bytes=8 * 1024 * 1024)
    processor = CommandProcessor(pool, consumer, producer, settings.processor_group,
                                 settings.processor_batch_max, lifecycle)
    relay = OutboxRelay(lambda: pg_connect(settings), producer, settings.relay_batch_max, lifecycle)

    async def ready() -> bool:
        return await pool.fetchval("SELECT 1") == 1

    ops = OpsServer(settings.http_host, settings.metrics_port, ready)
    await ops.start()
    processor.subscribe()
    await consumer.start()
    log.info("processor started", metrics_port=ops.port)
    relay_task = asyncio.create_task(relay.run())
    try:
        await processor.run()
    finally:
        lifecycle.stop()
        await relay_task
        await consumer.stop()
        await producer.stop()
        await pool.close()
        await ops.close()
        log.info("processor exited")


if __name__ == "__main__":
    run_worker(main)
