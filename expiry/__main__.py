"""python -m expiry: the hold-expiry sweeper."""
from __future__ import annotations

from expiry.sweeper import ExpirySweeper
from runtime.service import Service, run_service


async def main(service: Service) -> None:
    producer = await service.kafka_producer()
    await ExpirySweeper(service.pg_connect(), producer, service.settings.expiry_interval_s, service.lifecycle).run()


if __name__ == "__main__":
    run_service("expiry", main)
