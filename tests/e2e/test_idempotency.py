"""Idempotency-Key: the same customer, key and body is one booking however often and however concurrently."""

from __future__ import annotations

import asyncio

from tests.support import ids


async def test_twenty_concurrent_identical_requests_make_one_booking(api, pg):
    show_id = await api.create_show()
    customer, key = ids.customer("idem"), ids.key()
    responses = await asyncio.gather(*[api.book(customer, show_id, quantity=2, key=key) for _ in range(20)])
    assert {r.status_code for r in responses} <= {200, 202}
    assert sum(r.status_code == 202 for r in responses) >= 1
    booking_ids = {r.json()["booking_id"] for r in responses}
    assert len(booking_ids) == 1
    booking_id = booking_ids.pop()
    decided = await api.wait_status(customer, booking_id)
    assert decided["status"] == "PENDING" and len(decided["seats"]) == 2
    # A later booking of the same show is decided after every command published before it (one partition, in
    # order): once it is, any duplicate that was published has been decided too. Still one booking of theirs.
    other = ids.customer("after")
    await api.wait_status(other, (await api.book(other, show_id, quantity=1)).json()["booking_id"])
    assert (
        await pg.fetchval("SELECT count(*) FROM bookings WHERE show_id = $1 AND customer_id = $2", show_id, customer)
        == 1
    )
    assert await pg.fetchval("SELECT count(*) FROM seats WHERE show_id = $1", show_id) == 3


async def test_same_key_different_body_is_refused(api):
    show_id = await api.create_show()
    customer, key = ids.customer("idem"), ids.key()
    first = await api.book(customer, show_id, quantity=1, key=key)
    assert first.status_code == 202
    again = await api.book(customer, show_id, quantity=1, key=key)
    assert again.status_code == 200 and again.json()["booking_id"] == first.json()["booking_id"]
    other = await api.book(customer, show_id, quantity=2, key=key)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"


async def test_same_key_for_two_customers_is_two_bookings(api):
    show_id = await api.create_show()
    key = ids.key()
    a = await api.book(ids.customer("a"), show_id, quantity=1, key=key)
    b = await api.book(ids.customer("b"), show_id, quantity=1, key=key)
    assert a.status_code == b.status_code == 202
    assert a.json()["booking_id"] != b.json()["booking_id"]
