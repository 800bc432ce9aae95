"""Conditional reads through NGINX on the running system: ETag/304 on the show and its map, and a booking
read with `Prefer: wait` answered by the change itself (the projections' notification), not by a timer."""

from __future__ import annotations

import asyncio
import time

from tests.support import ids


async def test_the_seat_map_is_tagged_by_its_version_and_answers_304(api):
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 4, "price_cents": 1}])
    first = await api.http.get(f"/v1/shows/{show_id}/seats")
    tag = first.headers["ETag"]
    assert tag == f'"v{first.json()["version"]}"'
    same = await api.http.get(f"/v1/shows/{show_id}/seats", headers={"If-None-Match": tag})
    assert same.status_code == 304 and same.content == b""
    alice = ids.customer("alice")
    booking_id = (await api.book(alice, show_id, seats=["A-1-1"])).json()["booking_id"]
    await api.wait_status(alice, booking_id)
    for _ in range(50):  # the projection applies the hold, and a micro-cache may hold the old map ≤ 1 s
        moved = await api.http.get(f"/v1/shows/{show_id}/seats", headers={"If-None-Match": tag})
        if moved.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert moved.status_code == 200 and moved.headers["ETag"] != tag and moved.json()["held"] == ["A-1-1"]


async def test_a_waiting_read_is_answered_when_the_booking_is_decided(api):
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 1}])
    bob = ids.customer("bob")
    booking_id = (await api.book(bob, show_id, seats=["A-1-1"])).json()["booking_id"]
    held = await api.wait_status(bob, booking_id)
    assert held["status"] == "PENDING"
    r = await api.booking(bob, booking_id)
    tag = r.headers["ETag"]
    headers = {**api.auth(bob), "If-None-Match": tag, "Prefer": "wait=20"}

    waiting = asyncio.create_task(api.http.get(f"/v1/bookings/{booking_id}", headers=headers, timeout=40))
    await asyncio.sleep(1.0)
    assert not waiting.done(), "a current tag with Prefer: wait is held open"
    confirmed_at = time.monotonic()
    c = await api.http.post(
        f"/v1/bookings/{booking_id}/confirm", json={"payment_reference": "p-1"}, headers=api.auth(bob)
    )
    assert c.status_code == 202
    answer = await waiting
    took = time.monotonic() - confirmed_at
    assert answer.status_code == 200, answer.text  # the change, not the end of the wait (that is a 304)
    assert answer.json()["status"] == "CONFIRMED"
    assert answer.headers["Preference-Applied"] == "wait=20" and answer.headers["ETag"] != tag
    print(f"\n[conditional] a waiting read answered {took * 1000:.0f} ms after the confirm was accepted")

    settled = await api.http.get(
        f"/v1/bookings/{booking_id}",
        headers={**api.auth(bob), "If-None-Match": answer.headers["ETag"], "Prefer": "wait=1"},
    )
    assert settled.status_code == 304 and settled.headers["Preference-Applied"] == "wait=1"
