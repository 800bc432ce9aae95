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


async def test_a_command_the_database_refuses_is_dead_lettered_alone(api, settings, pg):
    """Decodable but undecidable: a second booking id reusing another booking's request id. The batch fails
    on the unique key, its commands are decided one by one, and only the offending one goes to the DLQ."""
    from datetime import UTC, datetime

    from schemas.commands import RequestBooking, encode_command
    from schemas.validation import format_time

    show_id = await api.create_show()
    dlq = TopicPartition(topics.COMMANDS_DLQ, 0)
    reader = kafka_consumer(settings, group_id=None)
    await reader.start()
    reader.assign([dlq])
    start = (await reader.end_offsets([dlq]))[dlq]
    request_id = f"req-{ids.suffix()}"

    def request(booking_id: str, request: str) -> bytes:
        return encode_command(RequestBooking(
            command_id=booking_id, show_id=show_id, issued_at=format_time(datetime.now(UTC)), booking_id=booking_id,
            request_id=request, customer_id="direct", email=None, phone=None, seats=None, quantity=1))

    first, clash, last = (f"bk_direct_{ids.suffix()}" for _ in range(3))
    producer = kafka_producer(settings)
    await producer.start()
    try:
        for value in (request(first, request_id), request(clash, request_id), request(last, f"{request_id}-2")):
            await producer.send_and_wait(topics.COMMANDS, value, key=show_id.encode())
    finally:
        await producer.stop()
    try:
        decided = await eventually_rows(pg, [first, clash, last])
        assert decided == {first: "PENDING", last: "PENDING"}
        reader.seek(dlq, start)
        found = []
        async with asyncio.timeout(20):
            while not found:
                for records in (await reader.getmany(dlq, timeout_ms=500)).values():
                    found += [r for r in records if orjson.loads(r.value).get("booking_id") == clash]
        assert b"UniqueViolation" in dict(found[0].headers)["error"]
    finally:
        await reader.stop()


async def eventually_rows(pg, booking_ids: list[str]) -> dict[str, str]:
    from tests.support.waiting import eventually

    rows = await eventually(
        lambda: pg.fetch("SELECT booking_id, status FROM bookings WHERE booking_id = ANY($1::text[])", booking_ids),
        lambda rows: len(rows) >= 2, timeout=30, what="the good commands decided")
    await asyncio.sleep(0.5)  # nothing more arrives for the refused one
    rows = await pg.fetch("SELECT booking_id, status FROM bookings WHERE booking_id = ANY($1::text[])", booking_ids)
    return {r["booking_id"]: r["status"] for r in rows}
