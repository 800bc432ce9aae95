"""`boxoffice topics`: create the topics idempotently and describe them (partitions, retention, lag)."""

from __future__ import annotations

from aiokafka import TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from runtime.clients import kafka_admin, kafka_consumer, topic_partitions
from runtime.settings import Settings
from schemas import topics


def durability(brokers: int) -> tuple[int, int]:
    """Replication factor and min.insync.replicas for a cluster of `brokers`: 3 and 2 from three brokers on
    (an acknowledged record is on two brokers at least, and one broker can be lost without stopping writes),
    else every broker and 1 (the single-node topology)."""
    return (3, 2) if brokers >= 3 else (max(brokers, 1), 1)


async def ensure_topics(settings: Settings) -> list[str]:
    """Create every missing topic; returns the names created now."""
    admin = kafka_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        replication, min_isr = durability(len((await admin.describe_cluster())["brokers"]))
        missing = [
            NewTopic(
                name,
                num_partitions=partitions,
                replication_factor=replication,
                topic_configs={
                    **configs,
                    "min.insync.replicas": str(min_isr),
                    "unclean.leader.election.enable": "false",
                },
            )
            for name, (partitions, configs) in topics.TOPICS.items()
            if name not in existing
        ]
        if missing:
            await admin.create_topics(missing, timeout_ms=30_000)
        return [t.name for t in missing]
    finally:
        await admin.close()


def replication_lines(partitions: list[dict]) -> list[str]:
    """Replication of a topic's partitions: the factor, the smallest in-sync set, which partitions are under
    replicated (in-sync set smaller than the replicas) and which have no leader."""
    if not partitions:
        return []
    factor = max(len(p["replicas"]) for p in partitions)
    smallest = min(len(p["isr"]) for p in partitions)
    under = sorted(p["partition"] for p in partitions if len(p["isr"]) < len(p["replicas"]))
    leaderless = sorted(p["partition"] for p in partitions if p["leader"] < 0)
    return [
        f"  replication={factor} smallest in-sync set={smallest} under-replicated={under or 'none'}"
        + (f" WITHOUT A LEADER={leaderless}" if leaderless else "")
    ]


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
        described = {t["topic"]: t for t in await admin.describe_topics(list(topics.TOPICS))}
        brokers = len((await admin.describe_cluster())["brokers"])
        lines.append(f"cluster: {brokers} broker(s) answering")
        for name in topics.TOPICS:
            partitions = await topic_partitions(consumer, name)
            tps = [TopicPartition(name, p) for p in sorted(partitions)]
            ends = await consumer.end_offsets(tps) if tps else {}
            config = configs.get(name, {})
            lines.append(
                f"{name}: partitions={len(tps)} retention.ms={config.get('retention.ms', '?')} "
                f"min.insync.replicas={config.get('min.insync.replicas', '?')} messages_end={sum(ends.values())}"
            )
            lines += replication_lines(described.get(name, {}).get("partitions", []))
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
