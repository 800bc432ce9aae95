"""How far a consumer group is behind a topic's end, from its committed offsets (what a restart resumes from)."""

from __future__ import annotations

import contextlib

from aiokafka import TopicPartition

from runtime.clients import kafka_admin, kafka_consumer, topic_partitions
from runtime.settings import Settings


async def group_lag(settings: Settings, group: str, topic: str) -> int:
    """Records of `topic` that `group` has not committed yet (a partition it never committed counts whole).
    The committed offsets are read first, so a commit after them only makes the figure larger, never 0 early."""
    async with contextlib.AsyncExitStack() as stack:
        admin, reader = kafka_admin(settings, "boxoffice-tests"), kafka_consumer(settings, group_id=None)
        await admin.start()
        stack.push_async_callback(admin.close)
        await reader.start()
        stack.push_async_callback(reader.stop)
        tps = [TopicPartition(topic, p) for p in sorted(await topic_partitions(reader, topic))]
        committed = await admin.list_consumer_group_offsets(group, partitions=tps)
        ends = await reader.end_offsets(tps)
        return sum(max(0, ends[tp] - (max(committed[tp].offset, 0) if tp in committed else 0)) for tp in tps)
