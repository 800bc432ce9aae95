"""The real broker: idempotent produce and consume, topic configuration, data surviving a restart."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import NewTopic

from ops.topics import describe, ensure_topics
from runtime.clients import kafka_admin, kafka_consumer, kafka_producer
from runtime.settings import Settings
from schemas import topics
from tests.support.processes import ROOT
from tests.support.stacks import stack_env


async def _produce_and_read(settings: Settings, topic: str, values: list[bytes]) -> list[bytes]:
    producer = kafka_producer(settings)
    await producer.start()
    try:
        for value in values:
            await producer.send(topic, value, key=b"k")
        await producer.flush()
    finally:
        await producer.stop()
    return await _read_all(settings, topic)


async def _read_all(settings: Settings, topic: str) -> list[bytes]:
    consumer = kafka_consumer(settings, group_id=None)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        out: list[bytes] = []
        while len(out) < end:
            for records in (await consumer.getmany(tp, timeout_ms=1000)).values():
                out += [r.value for r in records]
        return out
    finally:
        await consumer.stop()


async def _create_topic(settings: Settings, name: str) -> None:
    admin = kafka_admin(settings)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        await admin.close()


async def test_idempotent_produce_and_consume(settings):
    topic = f"test.idem.{secrets.token_hex(4)}"
    await _create_topic(settings, topic)
    values = [f"message-{i}".encode() for i in range(500)]
    assert await _produce_and_read(settings, topic, values) == values


async def test_topics_exist_with_the_documented_configuration(settings):
    assert await ensure_topics(settings) == []  # the stack created them; a second run creates nothing
    lines = "\n".join(await describe(settings, []))
    assert f"{topics.COMMANDS}: partitions=12" in lines
    assert f"{topics.EVENTS}: partitions=12 retention.ms=-1" in lines
    assert f"{topics.COMMANDS_DLQ}: partitions=1" in lines


@pytest.mark.slow
async def test_messages_survive_a_broker_restart(tmp_path: Path):
    """A broker of its own (own data dir and ports), stopped and started again with stack.sh."""
    env = stack_env(tmp_path / "stack", "single")
    stack = [str(ROOT / "stack" / "stack.sh")]
    settings = Settings.from_env(env)

    def run(*args: str) -> None:
        done = subprocess.run(stack + list(args), env=env, timeout=180, capture_output=True, text=True)
        assert done.returncode == 0, f"stack.sh {' '.join(args)} failed:\n{done.stderr[-3000:]}"

    run("up", "kafka")
    try:
        values = [b"before-restart-1", b"before-restart-2"]
        assert await _produce_and_read(settings, topics.COMMANDS_DLQ, values) == values
        run("down", "kafka")
        run("up", "kafka")
        assert await _read_all(settings, topics.COMMANDS_DLQ) == values
    finally:
        run("down", "kafka")
