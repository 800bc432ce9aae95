"""The booking lifecycle of API.md, end to end over HTTP against the real stack."""

from __future__ import annotations

from datetime import datetime

from tests.support import ids
from tests.support.waiting import eventually


async def test_create_book_confirm(api):
    show_id = await api.create_show([{"name": "A", "rows": 2, "seats_per_row": 5, "price_cents": 1000}])
    seat_map = await api.seat_map(show_id)
    assert seat_map == {
        "show_id": show_id,
        "version": 1,
        "seats_total": 10,
        "seats_available": 10,
        "held": [],
        "booked": [],
    }

    alice = ids.customer("alice")
    r = await api.book(alice, show_id, seats=["A-1-1", "A-1-2"])
    assert r.status_code == 202, r.text
    booking_id = r.json()["booking_id"]
    assert r.json()["status"] == "RECEIVED"
    assert r.headers["location"] == f"/v1/bookings/{booking_id}"

    pending = await api.wait_status(alice, booking_id)
    assert pending["status"] == "PENDING"
    assert pending["seats"] == ["A-1-1", "A-1-2"]
    expires_at = datetime.fromisoformat(pending["expires_at"])
    created_at = datetime.fromisoformat(pending["created_at"])
    assert (expires_at - created_at).total_seconds() == 120
    seat_map = await api.seat_map(show_id)
    assert seat_map["held"] == ["A-1-1", "A-1-2"] and seat_map["seats_available"] == 8

    r = await api.http.post(
        f"/v1/bookings/{booking_id}/confirm", json={"payment_reference": "pay-1"}, headers=api.auth(alice)
    )
    assert r.status_code == 202, r.text
    confirmed = await api.wait_status(alice, booking_id, {"CONFIRMED"})
    assert confirmed["seats"] == ["A-1-1", "A-1-2"]
    seat_map = await api.seat_map(show_id)
    assert seat_map["held"] == [] and seat_map["booked"] == ["A-1-1", "A-1-2"]
    assert seat_map["version"] == 3

    r = await api.http.get(f"/v1/shows/{show_id}")
    assert r.json()["seats_available"] == 8


async def test_cancel_releases_seats(api):
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 4, "price_cents": 1}])
    bob = ids.customer("bob")
    booking_id = (await api.book(bob, show_id, quantity=4)).json()["booking_id"]
    assert (await api.wait_status(bob, booking_id))["status"] == "PENDING"
    r = await api.http.post(f"/v1/bookings/{booking_id}/cancel", headers=api.auth(bob))
    assert r.status_code == 202, r.text
    assert (await api.wait_status(bob, booking_id, {"CANCELLED"}))["status"] == "CANCELLED"
    carol = ids.customer("carol")
    again = (await api.book(carol, show_id, seats=["A-1-1"])).json()["booking_id"]
    assert (await api.wait_status(carol, again))["status"] == "PENDING"


async def test_best_available_same_row_adjacent(api):
    show_id = await api.create_show([{"name": "A", "rows": 3, "seats_per_row": 6, "price_cents": 1}])
    dan = ids.customer("dan")
    first = (await api.book(dan, show_id, seats=["A-1-3"])).json()["booking_id"]
    assert (await api.wait_status(dan, first))["status"] == "PENDING"
    second = (await api.book(dan, show_id, quantity=3)).json()["booking_id"]
    decided = await api.wait_status(dan, second)
    assert decided["status"] == "PENDING"
    assert decided["seats"] == ["A-1-4", "A-1-5", "A-1-6"]


async def test_rejections(api):
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 3, "price_cents": 1}])
    erin, frank = ids.customer("erin"), ids.customer("frank")
    held = (await api.book(erin, show_id, seats=["A-1-1", "A-1-2"])).json()["booking_id"]
    assert (await api.wait_status(erin, held))["status"] == "PENDING"

    taken = (await api.book(frank, show_id, seats=["A-1-2"])).json()["booking_id"]
    rejected = await api.wait_status(frank, taken)
    assert (rejected["status"], rejected["reason"]) == ("REJECTED", "seat_unavailable")

    too_many = (await api.book(frank, show_id, quantity=2)).json()["booking_id"]
    rejected = await api.wait_status(frank, too_many)
    assert (rejected["status"], rejected["reason"]) == ("REJECTED", "sold_out")

    last = (await api.book(frank, show_id, quantity=1)).json()["booking_id"]
    assert (await api.wait_status(frank, last))["seats"] == ["A-1-3"]
    sold_out = (await api.book(frank, show_id, seats=["A-1-1"])).json()["booking_id"]
    rejected = await api.wait_status(frank, sold_out)
    assert (rejected["status"], rejected["reason"]) == ("REJECTED", "sold_out")


async def test_invalid_seat_and_unknown_show_are_refused_at_intake(api):
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 3, "price_cents": 1}])
    r = await api.book(ids.customer(), show_id, seats=["A-1-4"])
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"
    r = await api.book(ids.customer(), show_id, seats=["Z-1-1"])
    assert r.status_code == 422
    r = await api.book(ids.customer(), "sh_does_not_exist", quantity=1)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_my_bookings_newest_first_paginated(api):
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 10, "price_cents": 1}])
    gina = ids.customer("gina")
    booked = []
    for _ in range(3):
        booking_id = (await api.book(gina, show_id, quantity=1)).json()["booking_id"]
        await api.wait_status(gina, booking_id)
        booked.append(booking_id)
    # History reads a replica (behind the primary by up to BOXOFFICE_REPLICA_MAX_LAG_S): all three, in time.
    await eventually(
        lambda: api.http.get("/v1/me/bookings", headers=api.auth(gina)),
        lambda r: r.status_code == 200 and len(r.json()["bookings"]) == 3,
        what="all three in history",
    )
    r = await api.http.get("/v1/me/bookings?limit=2", headers=api.auth(gina))
    assert r.status_code == 200
    page1 = r.json()
    assert [b["booking_id"] for b in page1["bookings"]] == booked[::-1][:2]
    r = await api.http.get(f"/v1/me/bookings?limit=2&cursor={page1['next_cursor']}", headers=api.auth(gina))
    page2 = r.json()
    assert [b["booking_id"] for b in page2["bookings"]] == [booked[0]]
    assert "next_cursor" not in page2
