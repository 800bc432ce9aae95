"""A message on booking.commands that cannot be decoded goes to the DLQ and never blocks its partition."""
from __future__ import annotations

import asyncio

import orjson
from aiokafka import TopicPartition

from runtime.clients import kafka_consumer, kafka_producer
from schemas import topics
from tests.support import ids


async def test_garbage_goes_to_dlq_and_later_commands_are_decided(api, settings):
    show_id = await api.create_show()
    dlq = TopicPartition(topics.COMMANDS_DLQ, 0)
    reader = kafka_consumer(settings, group_id=None)
    await reader.start()
    producer = kafka_producer(settings)
    await producer.start()
    try:
        reader.assign([dlq])
        start = (await reader.end_offsets([dlq]))[dlq]
        garbage = [
            b"\x00\xffnot json at all",
            b'{"type": "RequestBooking", "show_id": "' + show_id.encode() + b'"}',
            orjson.dumps({"type": "Teleport", "command_id": "c", "show_id": show_id,
                          "issued_at": "2026-01-01T00:00:00Z"}),
        ]
        for value in garbage:  # keyed by the show: the same partition as its real commands
            await producer.send_and_wait(topics.COMMANDS, value, key=show_id.encode())
    finally:
        await producer.stop()
    try:
        customer = ids.customer("after-garbage")
        booking_id = (await api.book(customer, show_id, quantity=1)).json()["booking_id"]
        assert (await api.wait_status(customer, booking_id))["status"] == "PENDING"

        reader.seek(dlq, start)
        found = []
        async with asyncio.timeout(20):
            while len(found) < len(garbage):
                for records in (await reader.getmany(dlq, timeout_ms=500)).values():
                    found += [r for r in records if r.key == show_id.encode()]
        assert [r.value for r in found] == garbage
        for record in found:
            headers = dict(record.headers)
            assert headers["error"]
            assert headers["source_topic"] == topics.COMMANDS.encode()
    finally:
        await reader.stop()
