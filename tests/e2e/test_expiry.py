"""Holds cannot outlive their time: expiry end to end, a late confirm, and an expiry worker that was down."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from tests.support import ids

HOLD = 10  # the shortest hold the API allows


def _seconds_until(timestamp: str) -> float:
    return (datetime.fromisoformat(timestamp) - datetime.now(UTC)).total_seconds()


@pytest.mark.slow
async def test_unconfirmed_hold_expires_and_seats_are_bookable_again(api):
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 1}], hold_seconds=HOLD)
    alice, bob = ids.customer("alice"), ids.customer("bob")
    booking_id = (await api.book(alice, show_id, seats=["A-1-1", "A-1-2"])).json()["booking_id"]
    held = await api.wait_status(alice, booking_id)
    assert held["status"] == "PENDING"
    assert (await api.seat_map(show_id))["held"] == ["A-1-1", "A-1-2"]

    expired = await api.wait_status(alice, booking_id, {"EXPIRED"}, timeout=HOLD + 15)
    assert expired["reason"] == "hold_expired"
    assert _seconds_until(held["expires_at"]) > -10, "seats are released within 10 s after expires_at"
    seat_map = await api.seat_map(show_id)
    assert seat_map["held"] == [] and seat_map["seats_available"] == 2

    again = (await api.book(bob, show_id, seats=["A-1-1", "A-1-2"])).json()["booking_id"]
    assert (await api.wait_status(bob, again))["status"] == "PENDING"


@pytest.mark.slow
async def test_confirm_after_expires_at_is_refused_even_if_expiry_is_late(api, system):
    system.expiry.stop()
    try:
        show_id = await api.create_show(hold_seconds=HOLD)
        carol = ids.customer("carol")
        booking_id = (await api.book(carol, show_id, quantity=1)).json()["booking_id"]
        held = await api.wait_status(carol, booking_id)
        await asyncio.sleep(max(0.0, _seconds_until(held["expires_at"])) + 0.5)
        assert (await api.booking(carol, booking_id)).json()["status"] == "PENDING"  # nobody expired it yet
        r = await api.http.post(
            f"/v1/bookings/{booking_id}/confirm", json={"payment_reference": "late"}, headers=api.auth(carol)
        )
        assert r.status_code == 202
        late = await api.wait_status(carol, booking_id, {"EXPIRED", "CONFIRMED"})
        assert (late["status"], late["reason"]) == ("EXPIRED", "hold_expired")
        assert (await api.seat_map(show_id))["held"] == []
    finally:
        system.expiry.start()


@pytest.mark.slow
async def test_expiry_killed_while_holds_pending_expires_them_all_when_back(api, system, pg):
    system.expiry.kill()
    try:
        show_id = await api.create_show(hold_seconds=HOLD)
        customers = [ids.customer("dora") for _ in range(5)]
        booking_ids = [(await api.book(c, show_id, quantity=2)).json()["booking_id"] for c in customers]
        holds = [await api.wait_status(c, b) for c, b in zip(customers, booking_ids, strict=True)]
        latest = max(_seconds_until(h["expires_at"]) for h in holds)
        await asyncio.sleep(latest + 1.5)
        assert (
            await pg.fetchval("SELECT count(*) FROM bookings WHERE show_id = $1 AND status = 'PENDING'", show_id) == 5
        ), "with the worker down, holds stay (overdue) PENDING"
    finally:
        system.expiry.start()
    for customer, booking_id in zip(customers, booking_ids, strict=True):
        assert (await api.wait_status(customer, booking_id, {"EXPIRED"}, timeout=30))["reason"] == "hold_expired"
    assert (await api.seat_map(show_id))["seats_available"] == 100


@pytest.mark.slow
async def test_confirm_accepted_before_expires_at_is_honoured_after_a_stall_past_it(api, system):
    """The chaos run's lost confirms: the pipeline stalls (processor down) from before the confirm until after
    the deadline, while the expiry worker runs and asks to expire the hold. The confirm was accepted in time,
    so it is honoured: CONFIRMED, the seat booked."""
    show_id = await api.create_show(hold_seconds=HOLD)
    erin = ids.customer("erin")
    booking_id = (await api.book(erin, show_id, quantity=1)).json()["booking_id"]
    held = await api.wait_status(erin, booking_id)
    system.processor.stop()
    try:
        r = await api.http.post(
            f"/v1/bookings/{booking_id}/confirm", json={"payment_reference": "in-time"}, headers=api.auth(erin)
        )
        assert r.status_code == 202 and _seconds_until(held["expires_at"]) > 0
        # Past the deadline, and long enough for the expiry worker (every 0.5 s here) to issue its command.
        await asyncio.sleep(_seconds_until(held["expires_at"]) + 3)
    finally:
        system.processor.start()
    decided = await api.wait_status(erin, booking_id, {"EXPIRED", "CONFIRMED"})
    assert (decided["status"], decided["reason"]) == ("CONFIRMED", None)
    seat_map = await api.seat_map(show_id)
    assert seat_map["booked"] == decided["seats"] and seat_map["held"] == []
