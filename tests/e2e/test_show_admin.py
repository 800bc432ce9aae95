"""An admin closes a show's sale and cancels a show, end to end: the commands go through the show's queue,
every live booking of a cancelled show is cancelled in the same decision, and nothing of it is sold again."""

from __future__ import annotations

import asyncio
from datetime import datetime

from projections.keys import live_keys
from tests.support import ids
from tests.support.invariants import assert_no_overbooking


async def test_a_cancelled_show_cancels_its_bookings_and_refuses_every_later_request(api, pg):
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 6, "price_cents": 500}])
    customers = [ids.customer("ticketed") for _ in range(3)]
    booked = []
    for customer in customers:
        r = await api.book(customer, show_id, quantity=2)
        booked.append((customer, (await api.wait_status(customer, r.json()["booking_id"], {"PENDING"}))["booking_id"]))
    first_customer, first = booked[0]
    r = await api.http.post(
        f"/v1/bookings/{first}/confirm", json={"payment_reference": "p"}, headers=api.auth(first_customer)
    )
    await api.wait_status(first_customer, first, {"CONFIRMED"})

    r = await api.http.post(f"/v1/shows/{show_id}/cancel", headers=api.auth(customers[0]))
    assert r.status_code == 403, r.text  # an admin's
    r = await api.http.post(f"/v1/shows/{show_id}/cancel", headers=api.auth("admin-1", "admin"))
    assert r.status_code == 202 and r.json() == {"show_id": show_id}, r.text
    for customer, booking_id in booked:
        cancelled = await api.wait_status(customer, booking_id, {"CANCELLED"})
        assert cancelled["reason"] == "show_cancelled"
    show = (await api.http.get(f"/v1/shows/{show_id}", headers=api.auth(customers[0]))).json()
    assert show["cancelled_at"] is not None and show["seats_available"] == 6
    assert datetime.fromisoformat(show["sale_closes_at"]) <= datetime.fromisoformat(show["cancelled_at"])

    late = ids.customer("late")
    r = await api.book(late, show_id, quantity=1)
    rejected = await api.wait_status(late, r.json()["booking_id"])
    assert (rejected["status"], rejected["reason"]) == ("REJECTED", "show_cancelled")
    assert (
        await pg.fetchval(
            "SELECT count(*) FROM bookings WHERE show_id = $1 AND status IN ('PENDING', 'CONFIRMED')", show_id
        )
        == 0
    )
    await assert_no_overbooking(pg, show_id)
    r = await api.http.post("/v1/shows/sh_nosuchshow/cancel", headers=api.auth("admin-1", "admin"))
    assert r.status_code == 404


async def test_a_closed_sale_refuses_new_requests_and_honours_the_holds_made_before(api):
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 4, "price_cents": 500}])
    holder = ids.customer("holder")
    held = (await api.book(holder, show_id, quantity=2)).json()["booking_id"]
    await api.wait_status(holder, held, {"PENDING"})
    r = await api.http.post(f"/v1/shows/{show_id}/close", headers=api.auth("admin-1", "admin"))
    assert r.status_code == 202, r.text
    late = ids.customer("late")
    booking_id = (await api.book(late, show_id, quantity=1)).json()["booking_id"]
    assert (await api.wait_status(late, booking_id))["reason"] == "sale_closed"
    r = await api.http.post(f"/v1/bookings/{held}/confirm", json={"payment_reference": "p"}, headers=api.auth(holder))
    assert (await api.wait_status(holder, held, {"CONFIRMED"}))["status"] == "CONFIRMED"
    show = (await api.http.get(f"/v1/shows/{show_id}", headers=api.auth(holder))).json()
    assert show["cancelled_at"] is None and show["sale_closes_at"] != "2099-01-01T20:00:00Z"


async def test_the_admin_list_gives_each_section_s_available_held_sold_and_revenue(api):
    show_id = await api.create_show(
        [
            {"name": "A", "rows": 1, "seats_per_row": 4, "price_cents": 900},
            {"name": "B", "rows": 1, "seats_per_row": 4, "price_cents": 300},
        ],
        title="Admin list",
    )
    buyer, holder = ids.customer("buyer"), ids.customer("holder")
    bought = (await api.book(buyer, show_id, seats=["A-1-1", "A-1-2", "B-1-1"])).json()["booking_id"]
    await api.wait_status(buyer, bought, {"PENDING"})
    await api.http.post(f"/v1/bookings/{bought}/confirm", json={"payment_reference": "p"}, headers=api.auth(buyer))
    await api.wait_status(buyer, bought, {"CONFIRMED"})
    held = (await api.book(holder, show_id, seats=["B-1-4"])).json()["booking_id"]
    await api.wait_status(holder, held, {"PENDING"})

    assert (await api.http.get("/v1/admin/shows", headers=api.auth(holder))).status_code == 403
    found, cursor = None, None
    while found is None:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = await api.http.get("/v1/admin/shows", params=params, headers=api.auth("admin-1", "admin"))
        assert page.status_code == 200, page.text
        found = next((s for s in page.json()["shows"] if s["show"]["show_id"] == show_id), None)
        cursor = page.json().get("next_cursor")
        assert found is not None or cursor is not None, "the show is not in the admin list"
    sections = {s["name"]: (s["available"], s["held"], s["sold"], s["revenue"]) for s in found["sections"]}
    assert sections == {"A": (2, 0, 2, 1800), "B": (2, 1, 1, 300)}
    assert (found["sold"], found["revenue"]) == (3, 2100)


async def test_an_admin_renames_and_moves_a_show_before_its_sale_opens_and_the_listing_follows(api, redis):
    admin = api.auth("admin-1", "admin")
    show_id = await api.create_show(
        [{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 1}],
        starts_at="2098-06-01T20:00:00Z",
        sale_opens_at="2098-01-01T10:00:00Z",
    )
    r = await api.http.patch(
        f"/v1/shows/{show_id}", json={"title": "Moved", "starts_at": "2098-07-01T20:00:00Z"}, headers=admin
    )
    assert r.status_code == 202, r.text

    async def read() -> dict:
        return (await api.http.get(f"/v1/shows/{show_id}", headers=admin)).json()

    async def changed() -> dict:
        for _ in range(100):
            show = await read()
            if show["title"] == "Moved":
                return show
            await asyncio.sleep(0.1)
        raise AssertionError("the change was not applied")

    show = await changed()
    assert (show["starts_at"], show["sale_closes_at"]) == ("2098-07-01T20:00:00Z", "2098-07-01T20:00:00Z")
    assert show["update_refused"] is None
    # The listing is by start: its index has the show at the new start, no longer at the old one.
    index = {m.decode() for m in await redis.zrangebylex((await live_keys(redis)).show_index(), "-", "+")}
    assert f"2098-07-01T20:00:00.000Z|{show_id}" in index
    assert f"2098-06-01T20:00:00.000Z|{show_id}" not in index
    r = await api.http.patch(f"/v1/shows/{show_id}", json={}, headers=admin)
    assert r.status_code == 422, r.text
    r = await api.http.patch(f"/v1/shows/{show_id}", json={"starts_at": "2001-01-01T00:00:00Z"}, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["details"]["path"] == "$.starts_at", r.text
    r = await api.http.patch(f"/v1/shows/{show_id}", json={"title": "x"}, headers=api.auth(ids.customer("c")))
    assert r.status_code == 403


async def test_a_show_on_sale_keeps_its_start_and_says_why(api):
    admin = api.auth("admin-1", "admin")
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 1}])
    r = await api.http.patch(f"/v1/shows/{show_id}", json={"starts_at": "2099-02-01T20:00:00Z"}, headers=admin)
    assert r.status_code == 202, r.text
    for _ in range(100):
        show = (await api.http.get(f"/v1/shows/{show_id}", headers=admin)).json()
        if show["update_refused"]:
            break
        await asyncio.sleep(0.1)
    assert (show["update_refused"], show["starts_at"]) == ("sale_open", "2099-01-01T20:00:00Z")
