"""python -m expiry: the hold-expiry sweeper, one sweep per shard (each led by one instance at a time)."""

from __future__ import annotations

import asyncio

from expiry.sweeper import ExpirySweeper
from runtime.service import Service, run_service


async def main(service: Service) -> None:
    settings = service.settings
    producer = await service.kafka_producer()
    shards = await service.shards(size=1)  # the shard map: which partitions each shard's rows are the truth of
    await service.shard_map_loaded(shards)
    sweepers = [
        ExpirySweeper(
            service.pg_connect(dsn, check=f"postgres_shard_{i}"),
            producer,
            settings.expiry_interval_s,
            service.lifecycle,
            owned=lambda i=i: shards.map.owned(i),
            shard=i,
        )
        for i, dsn in enumerate(settings.pg_shard_dsns)
    ]
    await asyncio.gather(*[sweeper.run() for sweeper in sweepers])


if __name__ == "__main__":
    run_service("expiry", main)
