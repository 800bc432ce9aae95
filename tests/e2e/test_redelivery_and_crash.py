"""Exactly-once effects: replaying commands changes nothing; a processor killed with SIGKILL mid-stream
and restarted loses and duplicates nothing."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import ids
from tests.support.invariants import assert_no_overbooking, assert_projection_matches
from tests.support.waiting import eventually


async def _snapshot(pg, show_id: str) -> dict:
    return {
        "show": dict(await pg.fetchrow("SELECT * FROM shows WHERE show_id = $1", show_id)),
        "bookings": [
            dict(r) for r in await pg.fetch("SELECT * FROM bookings WHERE show_id = $1 ORDER BY booking_id", show_id)
        ],
        "seats": [dict(r) for r in await pg.fetch("SELECT * FROM seats WHERE show_id = $1 ORDER BY seat_id", show_id)],
        "outbox": [
            tuple(r)
            for r in await pg.fetch(
                "SELECT event_id, show_version FROM outbox_events WHERE show_id = $1 ORDER BY show_version", show_id
            )
        ],
    }


async def _positions(pg, group: str) -> dict[int, int]:
    rows = await pg.fetch(
        "SELECT partition, next_offset FROM consumer_positions WHERE group_id = $1 AND topic = 'booking.commands'",
        group,
    )
    return {r["partition"]: r["next_offset"] for r in rows}


async def test_replaying_commands_changes_nothing(api, pg, system, settings):
    before_positions = await _positions(pg, settings.processor_group)
    show_id = await api.create_show([{"name": "A", "rows": 2, "seats_per_row": 5, "price_cents": 1}])
    customers = [ids.customer("replay") for _ in range(6)]
    booking_ids = [(await api.book(c, show_id, quantity=2)).json()["booking_id"] for c in customers]
    decided = [await api.wait_status(c, b) for c, b in zip(customers, booking_ids, strict=True)]
    assert [d["status"] for d in decided].count("PENDING") == 5
    await api.http.post(
        f"/v1/bookings/{booking_ids[0]}/confirm", json={"payment_reference": "p"}, headers=api.auth(customers[0])
    )
    await api.http.post(f"/v1/bookings/{booking_ids[1]}/cancel", headers=api.auth(customers[1]))
    await api.wait_status(customers[0], booking_ids[0], {"CONFIRMED"})
    await api.wait_status(customers[1], booking_ids[1], {"CANCELLED"})
    snapshot = await _snapshot(pg, show_id)
    end_positions = await _positions(pg, settings.processor_group)

    # Seek back: stop the processor, move every stored position back to where it was before this test
    # (or to 0 for partitions it had not seen), start it again, and let it re-read everything since.
    system.processor.stop()
    await pg.execute(
        "UPDATE consumer_positions SET next_offset = 0 WHERE group_id = $1 AND topic = 'booking.commands'",
        settings.processor_group,
    )
    for partition, offset in before_positions.items():
        await pg.execute(
            """UPDATE consumer_positions SET next_offset = $3
                            WHERE group_id = $1 AND topic = 'booking.commands' AND partition = $2""",
            settings.processor_group,
            partition,
            offset,
        )
    system.processor.start()
    await eventually(
        lambda: _positions(pg, settings.processor_group),
        lambda p: all(p.get(k, 0) >= v for k, v in end_positions.items()),
        timeout=60,
        what="processor caught up after the seek back",
    )
    assert await _snapshot(pg, show_id) == snapshot


@pytest.mark.slow
async def test_processor_killed_mid_stream_loses_and_duplicates_nothing(api, pg, redis, system):
    show_id = await api.create_show([{"name": "A", "rows": 20, "seats_per_row": 25, "price_cents": 1}])
    customers = [ids.customer("crash") for _ in range(400)]

    async def book(customer: str) -> str:
        r = await api.book(customer, show_id, quantity=1)
        assert r.status_code == 202, r.text
        return r.json()["booking_id"]

    sending = asyncio.gather(*[book(c) for c in customers])
    # Kill the processor while requests are being accepted and decided.
    await eventually(
        lambda: pg.fetchval("SELECT count(*) FROM bookings WHERE show_id = $1", show_id),
        lambda n: n >= 20,
        timeout=30,
        interval=0.02,
        what="some decisions made",
    )
    system.processor.kill()
    booking_ids = await sending
    system.processor.start()

    await eventually(
        lambda: pg.fetchval("SELECT count(*) FROM bookings WHERE show_id = $1", show_id),
        lambda n: n == len(customers),
        timeout=60,
        what="every accepted request decided",
    )
    statuses = await pg.fetch("SELECT status, count(*) FROM bookings WHERE show_id = $1 GROUP BY status", show_id)
    assert {r["status"]: r["count"] for r in statuses} == {"PENDING": 400}
    assert set(booking_ids) == {
        r["booking_id"] for r in await pg.fetch("SELECT booking_id FROM bookings WHERE show_id = $1", show_id)
    }
    await assert_no_overbooking(pg, show_id)
    # One event per decision, versions 1..401 without a gap or a duplicate.
    versions = [
        r["show_version"]
        for r in await pg.fetch(
            "SELECT show_version FROM outbox_events WHERE show_id = $1 ORDER BY show_version", show_id
        )
    ]
    assert versions == list(range(1, 402))
    await assert_projection_matches(pg, redis, [show_id])
