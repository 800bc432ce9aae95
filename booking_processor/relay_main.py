"""python -m booking_processor.relay_main: the outbox relay as a process of its own (it runs beside the
command consumer on another core). Each shard has its own outbox and its own relay leadership (an
advisory lock on that shard): one process relays every shard, one instance at a time per shard."""

from __future__ import annotations

import asyncio

from booking_processor.relay import OutboxRelay
from runtime.service import Service, run_service


async def main(service: Service) -> None:
    settings = service.settings
    producer = await service.kafka_producer(linger_ms=5, max_batch_size=1024 * 1024)
    relays = [
        OutboxRelay(
            service.pg_connect(dsn, check=f"postgres_shard_{i}"),
            producer,
            settings.relay_batch_max,
            service.lifecycle,
            shard=i,
        )
        for i, dsn in enumerate(settings.pg_shard_dsns)
    ]
    await asyncio.gather(*[relay.run() for relay in relays])


if __name__ == "__main__":
    run_service("outbox_relay", main)
