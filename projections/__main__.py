"""python -m projections: keeps the Redis read models current from booking.events."""
from __future__ import annotations

from projections.consumer import ProjectionConsumer
from runtime.clients import kafka_consumer, redis_client
from runtime.lifecycle import Lifecycle, run_worker
from runtime.logging import configure_logging
from runtime.ops_server import OpsServer
from runtime.settings import Settings
from schemas import topics


async def main(lifecycle: Lifecycle) -> None:
    settings = Settings.from_env()
    log = configure_logging("projections", settings.log_level)
    redis = redis_client(settings)
    consumer = kafka_consumer(settings, topics.EVENTS, group_id=settings.projections_group)

    async def ready() -> bool:
        return bool(await redis.ping())

    ops = OpsServer(settings.http_host, settings.metrics_port, ready)
    await ops.start()
    await consumer.start()
    log.info("projections started", metrics_port=ops.port)
    try:
        await ProjectionConsumer(consumer, redis, lifecycle).run()
    finally:
        await consumer.stop()
        await redis.aclose()
        await ops.close()
        log.info("projections exited")


if __name__ == "__main__":
    run_worker(main)
