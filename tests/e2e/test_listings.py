"""GET /v1/shows from the Redis read models: new shows appear, availability follows bookings, paging."""

from __future__ import annotations

from tests.support import ids
from tests.support.waiting import eventually


async def _all_shows(api) -> list[dict]:
    shows, cursor = [], None
    while True:
        r = await api.http.get("/v1/shows", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200
        body = r.json()
        assert len(body["shows"]) <= 2
        shows += body["shows"]
        cursor = body.get("next_cursor")
        if cursor is None:
            return shows


async def test_listing_pages_and_follows_bookings(api):
    created = [
        await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 5, "price_cents": 1}], title=f"listing {i}")
        for i in range(3)
    ]
    listed = {s["show_id"]: s for s in await _all_shows(api)}
    assert set(created) <= set(listed)
    assert len(listed) == len(await _all_shows(api))  # pages neither repeat nor skip
    assert listed[created[0]]["seats_available"] == 5 and listed[created[0]]["title"] == "listing 0"

    customer = ids.customer("lister")
    booking_id = (await api.book(customer, created[0], quantity=2)).json()["booking_id"]
    await api.wait_status(customer, booking_id)

    async def availability() -> int:
        return {s["show_id"]: s for s in await _all_shows(api)}[created[0]]["seats_available"]

    assert await eventually(availability, lambda n: n == 3, what="listing shows the booking") == 3
