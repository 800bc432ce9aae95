"""The on-sale rules of issue 19, end to end: a customer's limit per show under concurrency, hold
extensions (and the expiry worker keeping to the new time), shows that have started, best seats first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support import ids
from tests.support.waiting import eventually

LIVE = {"PENDING", "CONFIRMED"}


def _seconds_until(timestamp: str) -> float:
    return (datetime.fromisoformat(timestamp) - datetime.now(UTC)).total_seconds()


async def _book_through_429(api, customer: str, show_id: str, body: dict) -> httpx.Response:
    """One booking request, sent again with the same Idempotency-Key while the customer's write limit says
    429 (50 requests at once are beyond its burst): the same request, never a second one."""
    headers = {**api.auth(customer), "Idempotency-Key": ids.key()}
    while True:
        r = await api.http.post(f"/v1/shows/{show_id}/bookings", json=body, headers=headers)
        if r.status_code != 429:
            return r
        await asyncio.sleep(float(r.headers.get("retry-after", "1")))


@pytest.mark.slow
async def test_fifty_concurrent_requests_of_one_customer_never_exceed_the_limit(api, pg):
    limit = 4
    show_id = await api.create_show(
        [{"name": "A", "rows": 10, "seats_per_row": 10, "price_cents": 1}], max_seats_per_customer=limit
    )
    alice, bob = ids.customer("limited"), ids.customer("other")
    # Best available (one or two seats) and seats by id in the back rows, which best available never reaches
    # here: every refusal can only be the limit's.
    bodies = [{"quantity": 1 + i % 2} if i % 3 else {"seats": [f"A-{6 + i // 10}-{1 + i % 10}"]} for i in range(50)]
    answers = await asyncio.gather(
        *[_book_through_429(api, alice, show_id, b) for b in bodies],
        _book_through_429(api, bob, show_id, {"quantity": 3}),
    )
    assert all(r.status_code == 202 for r in answers), {r.status_code for r in answers}
    decided = [await api.wait_status(alice, r.json()["booking_id"]) for r in answers[:-1]]
    live = [d for d in decided if d["status"] in LIVE]
    assert 1 <= sum(len(d["seats"]) for d in live) <= limit, live
    refused = [d for d in decided if d["status"] == "REJECTED"]
    assert len(live) + len(refused) == 50
    assert {d["reason"] for d in refused} <= {"customer_limit"}, {d["reason"] for d in refused}
    # Only requests that would have gone beyond the limit were refused: one seat more would not fit.
    assert sum(len(d["seats"]) for d in live) >= limit - 1
    assert (await api.wait_status(bob, answers[-1].json()["booking_id"]))["status"] == "PENDING"
    # PostgreSQL agrees: the customer's live seats of the show, whatever the intake or Redis say.
    seats = await pg.fetchval(
        """SELECT coalesce(sum(cardinality(seats)), 0) FROM bookings
           WHERE show_id = $1 AND customer_id = $2 AND status IN ('PENDING', 'CONFIRMED')""",
        show_id,
        alice,
    )
    assert 1 <= seats <= limit


@pytest.mark.slow
async def test_an_extended_hold_outlives_its_old_time_and_then_expires_at_the_new_one(api):
    hold = 10  # the shortest hold the API allows
    show_id = await api.create_show(
        [{"name": "A", "rows": 1, "seats_per_row": 4, "price_cents": 1}], hold_seconds=hold, max_hold_extensions=2
    )
    carol = ids.customer("extender")
    booking_id = (await api.book(carol, show_id, seats=["A-1-1"])).json()["booking_id"]
    held = await api.wait_status(carol, booking_id, {"PENDING"})
    assert held.get("extensions", 0) == 0

    async def extend() -> None:
        r = await api.http.post(f"/v1/bookings/{booking_id}/extend", headers=api.auth(carol))
        assert r.status_code == 202, r.text

    await extend()
    extended = (
        await eventually(
            lambda: api.booking(carol, booking_id),
            lambda r: r.json().get("extensions") == 1,
            what="the hold extended",
        )
    ).json()
    new_expiry = datetime.fromisoformat(extended["expires_at"])
    assert new_expiry - datetime.fromisoformat(held["expires_at"]) == timedelta(seconds=hold)

    # Past the old expiry, with the expiry worker sweeping every 0.5 s: still held.
    await asyncio.sleep(max(0.0, _seconds_until(held["expires_at"])) + 3)
    still = (await api.booking(carol, booking_id)).json()
    assert still["status"] == "PENDING", still
    assert "A-1-1" in (await api.seat_map(show_id))["held"]

    await extend()
    await eventually(lambda: api.booking(carol, booking_id), lambda r: r.json().get("extensions") == 2, what="twice")
    await extend()  # a third time: beyond max_hold_extensions
    refused = (
        await eventually(
            lambda: api.booking(carol, booking_id), lambda r: r.json().get("refused") is not None, what="refused"
        )
    ).json()
    assert (refused["refused"]["action"], refused["refused"]["reason"]) == ("extend", "extension_limit")
    assert refused["extensions"] == 2

    # And it expires at its new time, within the contract's 10 s.
    final = refused["expires_at"]
    expired = await api.wait_status(carol, booking_id, {"EXPIRED"}, timeout=_seconds_until(final) + 15)
    assert expired["reason"] == "hold_expired"
    assert _seconds_until(final) <= 0


async def test_someone_else_cannot_extend_a_hold(api):
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 1}])
    owner = ids.customer("owner")
    booking_id = (await api.book(owner, show_id, quantity=1)).json()["booking_id"]
    await api.wait_status(owner, booking_id)
    r = await api.http.post(f"/v1/bookings/{booking_id}/extend", headers=api.auth(ids.customer("snoop")))
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


@pytest.mark.slow
async def test_a_started_show_is_off_sale_and_leaves_the_listing(api):
    admin = api.auth("admin-1", "admin")
    past = {
        "title": "t",
        "venue": "v",
        "starts_at": "2020-01-01T00:00:00Z",
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 1}],
    }
    r = await api.http.post("/v1/shows", json=past, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["details"]["path"] == "$.starts_at", r.text

    starts_at = datetime.now(UTC) + timedelta(seconds=8)
    show_id = await api.create_show(
        [{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 1}],
        starts_at=starts_at.isoformat().replace("+00:00", "Z"),
        title="starting soon",
    )

    async def listed(**params) -> set[str]:
        found, cursor = set(), None
        while True:
            page = await api.http.get(
                "/v1/shows", params={"limit": 500, **params, **({"cursor": cursor} if cursor else {})}
            )
            assert page.status_code == 200, page.text
            found |= {s["show_id"] for s in page.json()["shows"]}
            cursor = page.json().get("next_cursor")
            if cursor is None:
                return found

    assert show_id in await listed()
    await asyncio.sleep(max(0.0, (starts_at - datetime.now(UTC)).total_seconds()) + 0.5)
    customer = ids.customer("late")
    booking_id = (await api.book(customer, show_id, quantity=1)).json()["booking_id"]
    decided = await api.wait_status(customer, booking_id)
    assert (decided["status"], decided["reason"]) == ("REJECTED", "sale_closed")
    assert show_id not in await listed()
    assert show_id in await listed(include_past="true")


async def test_best_seats_first_in_a_section_or_at_a_price(api):
    show_id = await api.create_show(
        [
            {"name": "A", "rows": 5, "seats_per_row": 10, "price_cents": 9000},
            {"name": "B", "rows": 5, "seats_per_row": 10, "price_cents": 3000, "focus": {"row": 3, "seat": 2}},
        ]
    )
    dora = ids.customer("best")
    centre = (await api.book(dora, show_id, quantity=2)).json()["booking_id"]
    assert (await api.wait_status(dora, centre))["seats"] == ["A-1-5", "A-1-6"]
    headers = {**api.auth(dora), "Idempotency-Key": ids.key()}
    r = await api.http.post(f"/v1/shows/{show_id}/bookings", json={"quantity": 2, "section": "B"}, headers=headers)
    assert r.status_code == 202, r.text
    # Nearest B's focus (row 3, seat 2) without leaving seat 1 alone beside the block.
    assert (await api.wait_status(dora, r.json()["booking_id"]))["seats"] == ["B-3-1", "B-3-2"]
    headers = {**api.auth(dora), "Idempotency-Key": ids.key()}
    r = await api.http.post(f"/v1/shows/{show_id}/bookings", json={"quantity": 3, "price_cents": 3000}, headers=headers)
    assert (await api.wait_status(dora, r.json()["booking_id"]))["seats"][0].startswith("B-")
    headers = {**api.auth(dora), "Idempotency-Key": ids.key()}
    r = await api.http.post(f"/v1/shows/{show_id}/bookings", json={"quantity": 1, "section": "Z"}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["path"] == "$.section"
