"""python -m projections: keeps the Redis read models current from booking.events."""

from __future__ import annotations

from projections.consumer import ProjectionConsumer
from runtime.service import Service, run_service
from schemas import topics


async def main(service: Service) -> None:
    redis = service.redis()
    consumer = await service.kafka_consumer(topics.EVENTS, group_id=service.settings.projections_group)
    await ProjectionConsumer(consumer, redis, service.lifecycle).run()


if __name__ == "__main__":
    run_service("projections", main)
