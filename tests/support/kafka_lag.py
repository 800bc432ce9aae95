"""How far a consumer group is behind a topic's end, from its committed offsets (what a restart resumes from)."""
from __future__ import annotations

from aiokafka import TopicPartition

from runtime.clients import kafka_admin, kafka_consumer, topic_partitions
from runtime.settings import Settings


async def group_lag(settings: Settings, group: str, topic: str) -> int:
    """Records of `topic` that `group` has not committed yet (a partition it never committed counts whole)."""
    admin, reader = kafka_admin(settings, "boxoffice-tests"), kafka_consumer(settings, group_id=None)
    await admin.start()
    await reader.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(await topic_partitions(reader, topic))]
        ends = await reader.end_offsets(tps)
        committed = await admin.list_consumer_group_offsets(group, partitions=tps)
        return sum(ends[tp] - max(committed[tp].offset, 0) if tp in committed else ends[tp] for tp in tps)
    finally:
        await reader.stop()
        await admin.close()
