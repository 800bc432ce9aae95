"""No overbooking under a storm: many customers race over HTTP for the same 100 seats."""

from __future__ import annotations

import asyncio
import random

import pytest

from tests.support import ids
from tests.support.api import DECIDED
from tests.support.invariants import assert_no_overbooking, assert_projection_matches
from tests.support.waiting import eventually

REQUESTS = 1200


@pytest.mark.slow
async def test_storm_of_overlapping_requests_never_overbooks(api, pg, redis):
    show_id = await api.create_show([{"name": "A", "rows": 10, "seats_per_row": 10, "price_cents": 100}])
    rng = random.Random(7)
    customers = [ids.customer("storm") for _ in range(300)]
    hot = [f"A-{r}-{s}" for r in range(1, 4) for s in range(1, 11)]  # everyone wants the front rows

    def body() -> dict:
        if rng.random() < 0.5:
            return {"quantity": rng.randint(1, 4)}
        return {"seats": rng.sample(hot, rng.randint(1, 3))}

    requests = [(rng.choice(customers), body()) for _ in range(REQUESTS)]
    responses = await asyncio.gather(*[api.book(c, show_id, **b) for c, b in requests])
    assert all(r.status_code == 202 for r in responses), {r.status_code for r in responses}
    accepted = {r.json()["booking_id"]: customer for r, (customer, _) in zip(responses, requests, strict=True)}
    assert len(accepted) == REQUESTS

    # Every accepted request reaches a decision, in PostgreSQL and through the API.
    await eventually(
        lambda: pg.fetchval("SELECT count(*) FROM bookings WHERE booking_id = ANY($1::text[])", list(accepted)),
        lambda n: n == REQUESTS,
        timeout=60,
        what="every accepted request decided",
    )
    sample = random.Random(1).sample(sorted(accepted), 50)
    for booking_id in sample:
        assert (await api.wait_status(accepted[booking_id], booking_id))["status"] in DECIDED

    await assert_no_overbooking(pg, show_id)
    held = await pg.fetchval("SELECT count(*) FROM seats WHERE show_id = $1", show_id)
    assert held == 100, "a storm of 1,200 requests for 100 seats sells every seat"
    await assert_projection_matches(pg, redis, [show_id])

    # Confirm and cancel concurrently: still no seat twice, Redis still equal to PostgreSQL.
    pending = await pg.fetch(
        "SELECT booking_id, customer_id FROM bookings WHERE show_id = $1 AND status = 'PENDING'", show_id
    )
    actions = []
    for i, row in enumerate(pending):
        path = "confirm" if i % 3 else "cancel"
        body = {"payment_reference": f"p{i}"} if path == "confirm" else None
        actions.append(
            api.http.post(f"/v1/bookings/{row['booking_id']}/{path}", json=body, headers=api.auth(row["customer_id"]))
        )
    assert all(r.status_code == 202 for r in await asyncio.gather(*actions))
    await eventually(
        lambda: pg.fetchval("SELECT count(*) FROM bookings WHERE show_id = $1 AND status = 'PENDING'", show_id),
        lambda n: n == 0,
        timeout=60,
        what="all holds settled",
    )
    await assert_no_overbooking(pg, show_id)
    await assert_projection_matches(pg, redis, [show_id])
