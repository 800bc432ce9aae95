"""Operators: wipe Redis, replay booking.events into new read models, reconcile with PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from projections.keys import live_keys
from tests.support import ids
from tests.support.invariants import assert_projection_matches
from tests.support.processes import ROOT
from tests.support.waiting import eventually


def boxoffice(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
async def test_flushall_replay_reconcile_and_a_corrupted_key(api, pg, redis):
    shows = []
    for _ in range(2):
        # Holds that outlast the test however long the replays take: the maps must compare equal after them.
        show_id = await api.create_show(
            [{"name": "A", "rows": 3, "seats_per_row": 4, "price_cents": 1}], hold_seconds=3600
        )
        customers = [ids.customer("replay") for _ in range(3)]
        bookings = [(await api.book(c, show_id, quantity=2)).json()["booking_id"] for c in customers]
        for c, b in zip(customers, bookings, strict=True):
            await api.wait_status(c, b)
        await api.http.post(
            f"/v1/bookings/{bookings[0]}/confirm", json={"payment_reference": "p"}, headers=api.auth(customers[0])
        )
        await api.wait_status(customers[0], bookings[0], {"CONFIRMED"})
        shows.append(show_id)
    await assert_projection_matches(pg, redis, shows)
    before = {s: await api.seat_map(s) for s in shows}

    await redis.flushall()
    replay = boxoffice("replay", "projections")
    assert replay.returncode == 0, replay.stderr
    assert "offsets" in replay.stderr and "/s" in replay.stderr and "ETA" in replay.stderr

    reconciled = boxoffice("reconcile")
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    for show_id in shows:
        assert await api.seat_map(show_id) == before[show_id]

    # The live consumer resumed into the new generation: a new booking is projected.
    late = ids.customer("late")
    booking_id = (await api.book(late, shows[0], quantity=1)).json()["booking_id"]
    assert (await api.wait_status(late, booking_id))["status"] == "PENDING"

    # A deliberately corrupted key is found and named.
    keys = await live_keys(redis)
    await assert_projection_matches(pg, redis, shows)
    seat = before[shows[1]]["held"][0]
    await redis.srem(keys.held(shows[1]), seat)
    corrupted = boxoffice("reconcile")
    assert corrupted.returncode == 1
    assert keys.held(shows[1]) in corrupted.stdout and seat in corrupted.stdout

    # So is a waiting line that lost a customer (the waiting list's read model is reconciled too).
    await redis.sadd(keys.held(shows[1]), seat)
    full = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 1}], hold_seconds=3600)
    holder, waiter = ids.customer("holder"), ids.customer("waiter")
    await api.wait_status(holder, (await api.book(holder, full, quantity=2)).json()["booking_id"])
    r = await api.http.post(f"/v1/shows/{full}/waitlist", json={"quantity": 1}, headers=api.auth(waiter))
    assert r.status_code == 202, r.text
    await eventually(
        lambda: api.http.get(f"/v1/shows/{full}/waitlist/me", headers=api.auth(waiter)),
        lambda r: r.status_code == 200 and r.json()["status"] == "WAITING",
        what="waiting",
    )
    assert boxoffice("reconcile").returncode == 0
    await redis.zrem(keys.waitlist(full), waiter)
    corrupted = boxoffice("reconcile")
    assert corrupted.returncode == 1 and keys.waitlist(full) in corrupted.stdout, corrupted.stdout

    # And a second replay repairs it.
    assert boxoffice("replay", "projections").returncode == 0
    assert boxoffice("reconcile").returncode == 0
