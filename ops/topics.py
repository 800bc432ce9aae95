"""`boxoffice topics`: create the topics idempotently and describe them (partitions, retention, lag)."""

from __future__ import annotations

from aiokafka import TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from runtime.clients import kafka_admin, kafka_consumer, topic_partitions
from runtime.settings import Settings
from schemas import topics


async def ensure_topics(settings: Settings) -> list[str]:
    """Create every missing topic; returns the names created now."""
    admin = kafka_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, num_partitions=partitions, replication_factor=1, topic_configs=configs)
            for name, (partitions, configs) in topics.TOPICS.items()
            if name not in existing
        ]
        if missing:
            await admin.create_topics(missing, timeout_ms=30_000)
        return [t.name for t in missing]
    finally:
        await admin.close()


async def describe(settings: Settings, groups: list[str]) -> list[str]:
    admin = kafka_admin(settings)
    await admin.start()
    consumer = kafka_consumer(settings, group_id=None)
    await consumer.start()
    lines = []
    try:
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in topics.TOPICS]
        configs = {}
        for response in await admin.describe_configs(resources):
            for resource in response.resources:
                name, entries = resource[3], resource[4]
                configs[name] = {e[0]: e[1] for e in entries}
        for name in topics.TOPICS:
            partitions = await topic_partitions(consumer, name)
            tps = [TopicPartition(name, p) for p in sorted(partitions)]
            ends = await consumer.end_offsets(tps) if tps else {}
            retention = configs.get(name, {}).get("retention.ms", "?")
            lines.append(f"{name}: partitions={len(tps)} retention.ms={retention} messages_end={sum(ends.values())}")
            for group in groups:
                try:
                    offsets = await admin.list_consumer_group_offsets(group, partitions=tps) if tps else {}
                except KafkaError as exc:  # no group coordinator yet: nothing was ever committed
                    lines.append(f"  group {group}: no committed offsets ({type(exc).__name__})")
                    continue
                committed = {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
                if committed:
                    lag = sum(ends[tp] - committed.get(tp, 0) for tp in tps)
                    lines.append(f"  group {group}: lag={lag}")
    finally:
        await consumer.stop()
        await admin.close()
    return lines
