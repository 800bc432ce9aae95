"""python -m booking_processor.relay_main: the outbox relay as a process of its own (it runs beside the
command consumer on another core; one relay is active at a time, others stand by)."""
from __future__ import annotations

from booking_processor.relay import OutboxRelay
from runtime.clients import kafka_producer, pg_connect
from runtime.leadership import pg_answers
from runtime.lifecycle import Lifecycle, run_worker
from runtime.logging import configure_logging
from runtime.ops_server import OpsServer
from runtime.settings import Settings


async def main(lifecycle: Lifecycle) -> None:
    settings = Settings.from_env()
    log = configure_logging("outbox_relay", settings.log_level)
    producer = kafka_producer(settings, linger_ms=5, max_batch_size=1024 * 1024)
    await producer.start()
    relay = OutboxRelay(lambda: pg_connect(settings), producer, settings.relay_batch_max, lifecycle)

    async def ready() -> bool:
        return await pg_answers(lambda: pg_connect(settings))

    ops = OpsServer(settings.http_host, settings.metrics_port, ready)
    await ops.start()
    log.info("outbox relay started", metrics_port=ops.port)
    try:
        await relay.run()
    finally:
        await producer.stop()  # flushes
        await ops.close()
        log.info("outbox relay exited")


if __name__ == "__main__":
    run_worker(main)
