"""python -m booking_processor.relay_main: the outbox relay as a process of its own (it runs beside the
command consumer on another core; one relay is active at a time, others stand by)."""
from __future__ import annotations

from booking_processor.relay import OutboxRelay
from runtime.service import Service, run_service


async def main(service: Service) -> None:
    producer = await service.kafka_producer(linger_ms=5, max_batch_size=1024 * 1024)
    relay = OutboxRelay(service.pg_connect(), producer, service.settings.relay_batch_max, service.lifecycle)
    await relay.run()


if __name__ == "__main__":
    run_service("outbox_relay", main)
