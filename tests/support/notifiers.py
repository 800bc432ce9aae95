"""Notifiers the e2e tests start: their own consumer group, their own SMTP sink, the System's payment provider,
and a start where booking.events stands (not offset 0: the suite's whole topic would take minutes to read)."""

from __future__ import annotations

from aiokafka import TopicPartition

from runtime.clients import kafka_consumer, topic_partitions
from schemas import topics
from tests.support.processes import Service


def notifier_service(system, smtp_port: int, group: str, **env: str) -> Service:
    return Service(
        f"notifier-{group}",
        "notifier",
        {
            "BOXOFFICE_SMTP_PORT": str(smtp_port),
            "BOXOFFICE_NOTIFIER_GROUP": group,
            "BOXOFFICE_PAYMENT_API_URL": system.devpay.url,
            **env,
        },
        system.log_dir,
    )


async def events_end(settings) -> dict[TopicPartition, int]:
    reader = kafka_consumer(settings, group_id=None)
    await reader.start()
    try:
        tps = [TopicPartition(topics.EVENTS, p) for p in sorted(await topic_partitions(reader, topics.EVENTS))]
        return await reader.end_offsets(tps)
    finally:
        await reader.stop()


async def start_group_at(settings, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit `offsets` for a group that has none yet: it starts there instead of at offset 0."""
    committer = kafka_consumer(settings, group_id=group)
    await committer.start()
    try:
        committer.assign(list(offsets))
        await committer.commit({tp: offset for tp, offset in offsets.items()})
    finally:
        await committer.stop()
