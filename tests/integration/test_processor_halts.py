"""Poison is not a bug: a defect in a decision halts its partition (no offset moves, nothing dead-lettered,
not ready, counted), the other partitions keep deciding, and after a restart with the fix the halted
partition resumes where it stopped. Real Kafka (a topic of its own) and PostgreSQL; the processor runs in
the test's event loop so that one decision can be made to fail."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.partitioner import DefaultPartitioner
from prometheus_client import REGISTRY

from booking_processor import decide
from booking_processor.processor import CommandProcessor
from runtime.clients import kafka_admin, kafka_consumer, kafka_producer
from runtime.lifecycle import Lifecycle
from schemas import topics
from schemas.commands import CreateShow, RequestBooking, encode_command
from schemas.layout import Section
from tests.support.waiting import eventually

NOW = datetime.now(UTC)


def _shows_on_two_partitions() -> tuple[str, str]:
    partitioner, partitions = DefaultPartitioner(), [0, 1]
    good = f"halt-good-{secrets.token_hex(3)}"
    while True:
        bad = f"halt-bad-{secrets.token_hex(3)}"
        if partitioner(bad.encode(), partitions, partitions) != partitioner(good.encode(), partitions, partitions):
            return good, bad


async def _start_processor(settings, pg, topic: str, group: str):
    producer = kafka_producer(settings)
    await producer.start()
    lifecycle = Lifecycle()
    processor = CommandProcessor(pg, producer, group, 1000, lifecycle, topic=topic)
    consumer = kafka_consumer(settings, group_id=group)
    consumer.subscribe([topic], listener=processor.rebalance_listener())
    await consumer.start()
    processor.consumer = consumer
    task = asyncio.create_task(processor.run())

    async def stop() -> None:
        lifecycle.stop()
        await task
        await consumer.stop()
        await producer.stop()

    return processor, stop


def _commands(show_id: str, n: int) -> list[bytes]:
    create = CreateShow(
        command_id=f"c-{show_id}",
        show_id=show_id,
        issued_at=NOW,
        title="t",
        venue="v",
        starts_at=NOW + timedelta(days=30),
        hold_seconds=60,
        sections=[Section("A", 1, 10, 1)],
    )
    requests = [
        RequestBooking(
            command_id=f"r-{show_id}-{i}",
            show_id=show_id,
            issued_at=NOW,
            booking_id=f"bk-{show_id}-{i}",
            request_id=f"rq-{show_id}-{i}",
            customer_id="c",
            quantity=1,
        )
        for i in range(n)
    ]
    return [encode_command(c) for c in [create, *requests]]


@pytest.mark.slow
async def test_a_failing_decision_halts_its_partition_only_until_a_fixed_restart(settings, pg, monkeypatch):
    topic, group = f"test.halt.{secrets.token_hex(3)}", f"halt-{secrets.token_hex(3)}"
    admin = kafka_admin(settings)
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    good, bad = _shows_on_two_partitions()
    dlq = TopicPartition(topics.COMMANDS_DLQ, 0)
    reader = kafka_consumer(settings, group_id=None)
    await reader.start()
    reader.assign([dlq])
    dlq_start = (await reader.end_offsets([dlq]))[dlq]

    original = decide._HANDLERS[RequestBooking]

    def buggy(batch, command):
        if command.show_id == bad:
            raise TypeError("a defect in the decision code")
        return original(batch, command)

    monkeypatch.setitem(decide._HANDLERS, RequestBooking, buggy)
    processor, stop = await _start_processor(settings, pg, topic, group)
    producer = kafka_producer(settings)
    await producer.start()
    try:
        for show_id in (good, bad):
            create, *requests = _commands(show_id, 3)
            await producer.send_and_wait(topic, create, key=show_id.encode())
            await eventually(
                lambda s=show_id: pg.fetchval("SELECT count(*) FROM shows WHERE show_id = $1", s),
                lambda n: n == 1,
                what="the show created",
            )
            for value in requests:
                await producer.send_and_wait(topic, value, key=show_id.encode())
        await eventually(
            lambda: pg.fetchval("SELECT count(*) FROM bookings WHERE show_id = $1", good),
            lambda n: n == 3,
            what="the healthy partition decided",
        )
        await eventually(lambda: asyncio.sleep(0, len(processor.halted)), lambda n: n == 1, what="a halt")
        assert not await processor.all_partitions_running()  # the process reports not ready
        assert REGISTRY.get_sample_value("boxoffice_processor_halted_partitions") == 1
        assert REGISTRY.get_sample_value("boxoffice_processor_halts_total") >= 1
        # A later command of the healthy show, sent after the halt, is decided by the same processor: whatever
        # it would do wrong with the halted partition has had its chance by then.
        later = RequestBooking(
            command_id=f"later-{good}",
            show_id=good,
            issued_at=NOW,
            booking_id=f"bk-later-{good}",
            request_id=f"rq-later-{good}",
            customer_id="c",
            quantity=1,
        )
        await producer.send_and_wait(topic, encode_command(later), key=good.encode())
        await eventually(
            lambda: pg.fetchval("SELECT count(*) FROM bookings WHERE booking_id = $1", later.booking_id),
            lambda n: n == 1,
            what="a later decision of the healthy partition",
        )
        assert await pg.fetchval("SELECT count(*) FROM bookings WHERE show_id = $1", bad) == 0
        (halted_tp,) = processor.halted
        position = await pg.fetchval(
            """SELECT next_offset FROM consumer_positions
                                        WHERE group_id = $1 AND topic = $2 AND partition = $3""",
            group,
            topic,
            halted_tp.partition,
        )
        # The show's creation (offset 0) was decided; the batch holding the failing decision (from offset 1)
        # was not committed, and no later one either: the partition stays where the defect stopped it.
        assert position == 1
        # and nothing good was dead-lettered because of our defect
        reader.seek(dlq, dlq_start)
        end, dead = (await reader.end_offsets([dlq]))[dlq], []
        async with asyncio.timeout(30):
            while await reader.position(dlq) < end:  # every dead letter written since the test began
                dead += (await reader.getmany(dlq, timeout_ms=500)).get(dlq, [])
        assert [r for r in dead if r.key == bad.encode()] == []
    finally:
        await stop()
    # The fix ships: a restart resumes the halted partition from its stored position.
    monkeypatch.setitem(decide._HANDLERS, RequestBooking, original)
    processor, stop = await _start_processor(settings, pg, topic, group)
    try:
        await eventually(
            lambda: pg.fetchval("SELECT count(*) FROM bookings WHERE show_id = $1 AND status = 'PENDING'", bad),
            lambda n: n == 3,
            what="the halted partition resumed",
        )
        assert await processor.all_partitions_running()
        assert REGISTRY.get_sample_value("boxoffice_processor_halted_partitions") == 0
    finally:
        await stop()
        await producer.stop()
        await reader.stop()
        await admin.delete_topics([topic])
        await admin.close()
