"""python -m booking_processor: the command consumer (the outbox relay runs as booking_processor.relay_main)."""
from __future__ import annotations

from booking_processor.processor import CommandProcessor
from runtime.clients import kafka_consumer, kafka_producer, pg_pool
from runtime.lifecycle import Lifecycle, run_worker
from runtime.logging import configure_logging
from runtime.ops_server import OpsServer
from runtime.settings import Settings


async def main(lifecycle: Lifecycle) -> None:
    settings = Settings.from_env()
    log = configure_logging("booking_processor", settings.log_level)
    # A transaction waits at most 5 s for a show's row lock (set per session: no extra round trip per batch).
    pool = await pg_pool(settings, size=4, server_settings={"lock_timeout": "5s"})
    producer = kafka_producer(settings)
    await producer.start()
    consumer = kafka_consumer(settings, group_id=settings.processor_group,
                              max_partition_fetch_bytes=8 * 1024 * 1024)
    processor = CommandProcessor(pool, consumer, producer, settings.processor_group,
                                 settings.processor_batch_max, lifecycle)

    async def ready() -> bool:
        return await pool.fetchval("SELECT 1") == 1

    ops = OpsServer(settings.http_host, settings.metrics_port, ready)
    await ops.start()
    processor.subscribe()
    await consumer.start()
    log.info("processor started", metrics_port=ops.port)
    try:
        await processor.run()
    finally:
        await consumer.stop()
        await producer.stop()
        await pool.close()
        await ops.close()
        log.info("processor exited")


if __name__ == "__main__":
    run_worker(main)
