"""The sale window and the fair start of issue 19, end to end: before the opening a request is decided
`sale_not_open`; the requests of the fair-start window stay RECEIVED until the window ends and are then
decided in the order the show's secret seed draws (recomputed here from the seed in PostgreSQL: the draw is a
pure function of the requests and the seed); after the window, first come, first served."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import ids
from tests.support.waiting import eventually


def _rfc3339(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _sleep_until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


@pytest.mark.slow
async def test_a_fair_start_decides_its_window_in_the_drawn_order_then_first_come_first_served(api, pg):
    window_s, seats = 4, 4
    opens = datetime.now(UTC) + timedelta(seconds=4)
    show_id = await api.create_show(
        [{"name": "A", "rows": 1, "seats_per_row": seats, "price_cents": 100}],
        sale_opens_at=_rfc3339(opens),
        fair_start_window_s=window_s,
    )
    show = (await api.http.get(f"/v1/shows/{show_id}")).json()
    assert datetime.fromisoformat(show["sale_opens_at"]) == opens.replace(microsecond=opens.microsecond // 1000 * 1000)
    assert show["fair_start_window_s"] == window_s and show["sale_closes_at"] == "2099-01-01T20:00:00Z"
    assert "fair_start_seed" not in show  # the draw's secret is never shown

    early = ids.customer("early")
    r = await api.book(early, show_id, quantity=1)
    assert r.status_code == 202, r.text
    too_early = await api.wait_status(early, r.json()["booking_id"])
    assert (too_early["status"], too_early["reason"]) == ("REJECTED", "sale_not_open")

    # Ten customers, one after the other inside the window: the order they arrive in is known.
    await _sleep_until(opens + timedelta(milliseconds=200))
    customers = [ids.customer(f"fair{n}") for n in range(10)]
    booking_ids = []
    for customer in customers:
        r = await api.book(customer, show_id, quantity=1)
        assert r.status_code == 202, r.text
        booking_ids.append(r.json()["booking_id"])
    ends = opens + timedelta(seconds=window_s)
    assert datetime.now(UTC) < ends - timedelta(milliseconds=500), "the requests did not fit in the window"
    await asyncio.sleep(1.0)  # long past the time the pipeline takes to decide a request
    waiting = (await api.booking(customers[0], booking_ids[0])).json()
    assert waiting["status"] == "RECEIVED", waiting  # until the draw

    decided = [await api.wait_status(c, b, timeout=window_s + 15) for c, b in zip(customers, booking_ids, strict=True)]
    assert all(datetime.fromisoformat(d["updated_at"]) >= ends - timedelta(seconds=1) for d in decided)
    winners = {d["booking_id"] for d in decided if d["status"] == "PENDING"}
    assert len(winners) == seats
    assert {d["reason"] for d in decided if d["booking_id"] not in winners} == {"sold_out"}
    # The drawn order, recomputed from the seed: one request per customer, so the keyed hash alone orders them.
    seed = await pg.fetchval("SELECT fair_start_seed FROM shows WHERE show_id = $1", show_id)
    assert len(seed) == 32
    drawn = sorted(booking_ids, key=lambda b: hashlib.sha256(f"{seed}\n{b}".encode()).digest())
    assert winners == set(drawn[:seats])
    assert await pg.fetchval("SELECT fair_start_drawn FROM shows WHERE show_id = $1", show_id)
    assert await pg.fetchval("SELECT count(*) FROM fair_start_entries WHERE show_id = $1", show_id) == 0

    # After the window: first come, first served, decided at once.
    late = ids.customer("late")
    r = await api.book(late, show_id, quantity=1)
    answer = await eventually(
        lambda: api.booking(late, r.json()["booking_id"]),
        lambda r: r.json()["status"] != "RECEIVED",
        timeout=5,
        what="a request after the window decided",
    )
    assert (answer.json()["status"], answer.json()["reason"]) == ("REJECTED", "sold_out")


async def test_a_show_with_an_impossible_sale_is_refused_with_the_rule(api):
    body = {
        "title": "t",
        "venue": "v",
        "starts_at": "2099-01-01T20:00:00Z",
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 1}],
    }
    admin = api.auth("admin-1", "admin")
    for extra in (
        {"sale_closes_at": "2099-01-02T00:00:00Z"},
        {"sale_opens_at": "2099-01-01T20:00:00Z"},
        {"fair_start_window_s": 10},
        {"sale_opens_at": "2098-01-01T00:00:00Z", "fair_start_window_s": 301},
    ):
        r = await api.http.post("/v1/shows", json={**body, **extra}, headers=admin)
        assert r.status_code == 422, (extra, r.text)
        assert r.json()["error"]["code"] == "validation_error"
