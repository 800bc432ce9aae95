"""The waiting list of issue 19, end to end: join while sold out and see the place in line; released seats
are offered in join order as a hold of `waitlist_offer_seconds`; an offer not confirmed in time expires and
goes to the next, who confirms it; leaving takes the place away."""

from __future__ import annotations

import pytest

from tests.support import ids
from tests.support.waiting import eventually


class _Waitlist:
    def __init__(self, api, show_id: str) -> None:
        self.api, self.show_id = api, show_id

    async def join(self, customer: str, quantity: int, **extra) -> dict:
        r = await self.api.http.post(
            f"/v1/shows/{self.show_id}/waitlist", json={"quantity": quantity, **extra}, headers=self.api.auth(customer)
        )
        assert r.status_code == 202, r.text
        assert r.headers["location"] == f"/v1/shows/{self.show_id}/waitlist/me"
        return r.json()

    async def leave(self, customer: str) -> None:
        r = await self.api.http.delete(f"/v1/shows/{self.show_id}/waitlist", headers=self.api.auth(customer))
        assert r.status_code == 202, r.text

    async def me(self, customer: str):
        return await self.api.http.get(f"/v1/shows/{self.show_id}/waitlist/me", headers=self.api.auth(customer))

    async def wait(self, customer: str, status: str, timeout: float = 30) -> dict:
        r = await eventually(
            lambda: self.me(customer),
            lambda r: r.status_code == 200 and r.json()["status"] == status,
            timeout=timeout,
            what=f"{customer}'s place {status}",
        )
        return r.json()


@pytest.mark.slow
async def test_released_seats_go_to_the_waiting_list_in_join_order_and_an_unused_offer_to_the_next(api):
    show_id = await api.create_show(
        [{"name": "A", "rows": 1, "seats_per_row": 4, "price_cents": 1000}], waitlist_offer_seconds=10
    )
    line = _Waitlist(api, show_id)
    early, alice, bob = ids.customer("early"), ids.customer("alice"), ids.customer("bob")
    carol, dave, erin = ids.customer("carol"), ids.customer("dave"), ids.customer("erin")
    assert (await line.join(early, 2))["status"] == "RECEIVED"
    refused = await line.wait(early, "REFUSED")
    assert refused["reason"] == "seats_available"  # seats are free: book them

    held = []
    for customer in (alice, bob):
        booking_id = (await api.book(customer, show_id, quantity=2)).json()["booking_id"]
        held.append((await api.wait_status(customer, booking_id))["booking_id"])
    await line.join(carol, 2)
    assert (await line.wait(carol, "WAITING"))["position"] == 1
    await line.join(dave, 2)
    await line.join(erin, 2)
    place = await line.wait(erin, "WAITING")
    assert (place["position"], place["waiting"], place["quantity"]) == (3, 3, 2)
    await line.leave(erin)
    assert (await line.wait(erin, "LEFT")).get("position") is None
    assert (await line.wait(dave, "WAITING"))["position"] == 2

    # alice cancels: carol, first in line, is offered her two seats as a hold of 10 s.
    r = await api.http.post(f"/v1/bookings/{held[0]}/cancel", headers=api.auth(alice))
    assert r.status_code == 202
    offered = await line.wait(carol, "OFFERED")
    offer = await api.wait_status(carol, offered["booking_id"], {"PENDING"})
    assert len(offer["seats"]) == 2 and offer["total"] == 2000
    assert (await line.wait(dave, "WAITING"))["position"] == 1

    # carol lets it lapse: the expiry worker releases it and dave is offered the seats; he confirms.
    expired = await api.wait_status(carol, offered["booking_id"], {"EXPIRED"}, timeout=30)
    assert expired["reason"] == "hold_expired"
    to_dave = await line.wait(dave, "OFFERED", timeout=15)
    await api.wait_status(dave, to_dave["booking_id"], {"PENDING"})
    r = await api.http.post(
        f"/v1/bookings/{to_dave['booking_id']}/confirm", json={"payment_reference": "p-1"}, headers=api.auth(dave)
    )
    assert r.status_code == 202
    confirmed = await api.wait_status(dave, to_dave["booking_id"], {"CONFIRMED"})
    assert sorted(confirmed["seats"]) == sorted(offer["seats"])  # the same seats, released and offered again


async def test_the_waiting_list_refuses_what_it_cannot_take(api):
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 1}])
    customer = ids.customer("asker")
    headers = api.auth(customer)
    r = await api.http.post(f"/v1/shows/{show_id}/waitlist", json={"quantity": 1, "section": "Z"}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["path"] == "$.section", r.text
    r = await api.http.post(f"/v1/shows/{show_id}/waitlist", json={"quantity": 11}, headers=headers)
    assert r.status_code == 422, r.text
    r = await api.http.post("/v1/shows/sh_nosuchshow/waitlist", json={"quantity": 1}, headers=headers)
    assert r.status_code == 404, r.text
    r = await api.http.post(f"/v1/shows/{show_id}/waitlist", json={"quantity": 1})
    assert r.status_code == 401, r.text
    r = await api.http.get(f"/v1/shows/{show_id}/waitlist/me", headers=headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
