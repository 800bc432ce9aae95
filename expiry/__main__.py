"""python -m expiry: the hold-expiry sweeper."""
from __future__ import annotations

from expiry.sweeper import ExpirySweeper
from runtime.clients import kafka_producer, pg_connect
from runtime.leadership import pg_answers
from runtime.lifecycle import Lifecycle, run_worker
from runtime.logging import configure_logging
from runtime.ops_server import OpsServer
from runtime.settings import Settings


async def main(lifecycle: Lifecycle) -> None:
    settings = Settings.from_env()
    log = configure_logging("expiry", settings.log_level)
    producer = kafka_producer(settings)
    await producer.start()
    sweeper = ExpirySweeper(lambda: pg_connect(settings), producer, settings.expiry_interval_s, lifecycle)

    async def ready() -> bool:
        return await pg_answers(lambda: pg_connect(settings))

    ops = OpsServer(settings.http_host, settings.metrics_port, ready)
    await ops.start()
    log.info("expiry started", metrics_port=ops.port, interval_s=settings.expiry_interval_s)
    try:
        await sweeper.run()
    finally:
        await producer.stop()
        await ops.close()
        log.info("expiry exited")


if __name__ == "__main__":
    run_worker(main)
