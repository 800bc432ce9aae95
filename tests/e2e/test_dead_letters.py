"""Poison is not lost: a message on booking.commands that cannot be decoded or decided goes to the DLQ, never
blocks its partition, and the request it carried is decided `invalid_request` through the normal event path,
so its owner sees an answer (status, history and seat map agree)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime

import msgspec
from aiokafka import TopicPartition

from runtime.clients import kafka_consumer, kafka_producer
from schemas import topics
from schemas.commands import RequestBooking, encode_command
from tests.support import ids
from tests.support.invariants import assert_no_overbooking, assert_projection_matches
from tests.support.waiting import eventually


async def _dlq_start(settings):
    dlq = TopicPartition(topics.COMMANDS_DLQ, 0)
    reader = kafka_consumer(settings, group_id=None)
    await reader.start()
    reader.assign([dlq])
    return reader, dlq, (await reader.end_offsets([dlq]))[dlq]


async def _dead_letters(reader, dlq, start, accept, count: int) -> list:
    reader.seek(dlq, start)
    found = []
    async with asyncio.timeout(20):
        while len(found) < count:
            for records in (await reader.getmany(dlq, timeout_ms=500)).values():
                found += [r for r in records if accept(r)]
    return found


async def _publish(settings, show_id: str, values: list[bytes]) -> None:
    producer = kafka_producer(settings)
    await producer.start()
    try:
        for value in values:  # keyed by the show: the same partition as its real commands
            await producer.send_and_wait(topics.COMMANDS, value, key=show_id.encode())
    finally:
        await producer.stop()


def _foreign(kind: str, show_id: str, **fields) -> bytes:
    """A message written to the topic by someone else: close to the contract, but not in it."""
    return msgspec.json.encode(
        {
            "type": kind,
            "command_id": f"c-{secrets.token_hex(4)}",
            "show_id": show_id,
            "issued_at": "2026-01-01T00:00:00Z",
            **fields,
        }
    )


async def test_undecodable_commands_are_dead_lettered_and_their_requests_decided(api, settings, pg, redis):
    show_id = await api.create_show([{"name": "A", "rows": 2, "seats_per_row": 2, "price_cents": 1}])
    owner = ids.customer("holder")
    held = (await api.book(owner, show_id, quantity=1)).json()["booking_id"]
    assert (await api.wait_status(owner, held))["status"] == "PENDING"
    victim, bad_booking = ids.customer("victim"), f"bk_foreign_{ids.suffix()}"
    bad_show = f"sh_foreign_{ids.suffix()}"
    reader, dlq, start = await _dlq_start(settings)
    garbage = [
        b"\x00\xffnot json at all",
        b'{"type": "RequestBooking", "show_id": "' + show_id.encode() + b'"}',
        msgspec.json.encode(
            {"type": "Teleport", "command_id": "c", "show_id": show_id, "issued_at": "2026-01-01T00:00:00Z"}
        ),
        # a seat id in other scripts' digits, from a customer who will poll for an answer
        _foreign(
            "RequestBooking", show_id, booking_id=bad_booking, request_id="r", customer_id=victim, seats=["A-\u00b9-1"]
        ),
        # NUL in a payment reference of a real booking
        _foreign("ConfirmBooking", show_id, booking_id=held, customer_id=owner, payment_reference="p\x00"),
    ]
    create = _foreign(
        "CreateShow",
        bad_show,
        title="a\x00b",
        venue="v",
        starts_at="2099-01-01T00:00:00Z",
        hold_seconds=60,
        sections=[{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}],
    )
    await _publish(settings, show_id, garbage)
    await _publish(settings, bad_show, [create])
    try:
        customer = ids.customer("after-garbage")
        later = (await api.book(customer, show_id, quantity=1)).json()["booking_id"]
        assert (await api.wait_status(customer, later))["status"] == "PENDING"  # the partition is not blocked

        rejected = await api.wait_status(victim, bad_booking)
        assert (rejected["status"], rejected["reason"]) == ("REJECTED", "invalid_request")
        refused = await eventually(
            lambda: api.booking(owner, held),
            lambda r: r.json().get("refused"),
            what="the refused confirm visible on the booking",
        )
        assert refused.json()["status"] == "PENDING"
        assert refused.json()["refused"]["action"] == "confirm"
        assert refused.json()["refused"]["reason"] == "invalid_request"
        history = await eventually(
            lambda: api.http.get("/v1/me/bookings", headers=api.auth(victim)),
            lambda r: r.status_code == 200 and r.json()["bookings"],
            what="the booking in history (a replica's read)",
        )
        decided = [(b["booking_id"], b["reason"]) for b in history.json()["bookings"]]
        assert decided == [(bad_booking, "invalid_request")]
        show = await eventually(
            lambda: api.http.get(f"/v1/shows/{bad_show}"),
            lambda r: r.json()["error"].get("details"),
            what="the show creation rejected",
        )
        assert show.status_code == 404 and show.json()["error"]["details"]["reason"] == "invalid_request"

        found = await _dead_letters(
            reader, dlq, start, lambda r: r.key in (show_id.encode(), bad_show.encode()), len(garbage) + 1
        )
        assert sorted(r.value for r in found) == sorted([*garbage, create])
        for record in found:
            headers = dict(record.headers)
            assert headers["error"] and headers["source_topic"] == topics.COMMANDS.encode()
        await assert_no_overbooking(pg, show_id)
        await assert_projection_matches(pg, redis, [show_id])
    finally:
        await reader.stop()


async def test_a_command_the_database_refuses_is_dead_lettered_alone_and_decided(api, settings, pg):
    """Decodable but undecidable: a second booking id reusing another booking's request id. The batch fails
    on the unique key, its commands are decided one by one, the offending one goes to the DLQ and its
    booking is decided REJECTED (invalid_request); the others are decided as usual."""
    show_id = await api.create_show()
    reader, dlq, start = await _dlq_start(settings)
    request_id = f"req-{ids.suffix()}"

    def request(booking_id: str, request: str) -> bytes:
        return encode_command(
            RequestBooking(
                command_id=booking_id,
                show_id=show_id,
                issued_at=datetime.now(UTC),
                booking_id=booking_id,
                request_id=request,
                customer_id="direct",
                quantity=1,
            )
        )

    first, clash, last = (f"bk_direct_{ids.suffix()}" for _ in range(3))
    await _publish(
        settings, show_id, [request(first, request_id), request(clash, request_id), request(last, f"{request_id}-2")]
    )
    try:
        rows = await eventually(
            lambda: pg.fetch(
                "SELECT booking_id, status, reason FROM bookings WHERE booking_id = ANY($1::text[])",
                [first, clash, last],
            ),
            lambda rows: len(rows) == 3,
            timeout=30,
            what="all three decided",
        )
        decided = {r["booking_id"]: (r["status"], r["reason"]) for r in rows}
        assert decided == {first: ("PENDING", None), clash: ("REJECTED", "invalid_request"), last: ("PENDING", None)}
        found = await _dead_letters(
            reader, dlq, start, lambda r: msgspec.json.decode(r.value).get("booking_id") == clash, 1
        )
        assert b"UniqueViolation" in dict(found[0].headers)["error"]
    finally:
        await reader.stop()
