"""Conditional reads in process: ETag on every read, 304 for a matching If-None-Match, and
`GET /v1/bookings/{id}` with `Prefer: wait=N` (the wait itself is FakeWaits; the real one is
tests/unit/test_booking_waits.py)."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from tests.api.test_api_in_process import SHOW, app_state, auth, client  # noqa: F401 (fixtures)


@pytest.mark.parametrize("path", ["/v1/shows", f"/v1/shows/{SHOW}", f"/v1/shows/{SHOW}/seats"])
async def test_reads_carry_a_strong_etag_and_answer_it_with_304(client, app_state, path):  # noqa: F811
    first = await client.get(path)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    again = await client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == tag
    weak = await client.get(path, headers={"If-None-Match": f'"other", W/{tag}'})  # weak comparison
    assert weak.status_code == 304
    assert (await client.get(path, headers={"If-None-Match": "*"})).status_code == 304
    assert (await client.get(path, headers={"If-None-Match": '"other"'})).status_code == 200
    assert (await client.get(path, headers={"If-None-Match": "no quotes"})).status_code == 200  # ignored


async def test_the_show_and_its_map_are_tagged_by_version(client, app_state):  # noqa: F811
    _, state = app_state
    tags = [(await client.get(f"/v1/shows/{SHOW}{p}")).headers["ETag"] for p in ("", "/seats")]
    assert tags == ['"v1"', '"v1"']
    state.reads.versions[SHOW] = 2
    after = await client.get(f"/v1/shows/{SHOW}/seats", headers={"If-None-Match": '"v1"'})
    assert after.status_code == 200 and after.headers["ETag"] == '"v2"' and after.json()["version"] == 2


async def test_the_listing_tag_moves_when_a_listed_show_changes(client, app_state):  # noqa: F811
    _, state = app_state
    tag = (await client.get("/v1/shows")).headers["ETag"]
    show = state.reads.shows[SHOW]
    state.reads.shows[SHOW] = msgspec.structs.replace(show, seats_available=show.seats_available - 1)
    r = await client.get("/v1/shows", headers={"If-None-Match": tag})
    assert r.status_code == 200 and r.headers["ETag"] != tag


async def test_a_booking_is_tagged_and_never_someone_elses(client, app_state):  # noqa: F811
    r = await client.get("/v1/bookings/bk_alice", headers=auth())
    tag = r.headers["ETag"]
    assert (await client.get("/v1/bookings/bk_alice", headers={**auth(), "If-None-Match": tag})).status_code == 304
    other = await client.get("/v1/bookings/bk_alice", headers={**auth("bob"), "If-None-Match": tag})
    assert other.status_code == 404  # a tag tells nothing about someone else's booking


async def test_prefer_wait_answers_as_soon_as_the_booking_changes(client, app_state):  # noqa: F811
    _, state = app_state
    tag = (await client.get("/v1/bookings/bk_alice", headers=auth())).headers["ETag"]

    async def confirm_soon() -> None:
        await asyncio.sleep(0.2)
        booking = state.reads.bookings["bk_alice"]
        state.reads.bookings["bk_alice"] = msgspec.structs.replace(booking, status="CONFIRMED")

    loop = asyncio.get_running_loop()
    started = loop.time()
    changer = asyncio.create_task(confirm_soon())
    r = await client.get("/v1/bookings/bk_alice", headers={**auth(), "If-None-Match": tag, "Prefer": "wait=10"})
    await changer
    assert r.status_code == 200 and r.json()["status"] == "CONFIRMED"
    assert r.headers["Preference-Applied"] == "wait=10" and r.headers["ETag"] != tag
    assert loop.time() - started < 5  # answered by the change, not by the end of the wait
    assert state.waits.waited == [10]


async def test_prefer_wait_runs_out_with_304(client, app_state):  # noqa: F811
    del app_state
    tag = (await client.get("/v1/bookings/bk_alice", headers=auth())).headers["ETag"]
    r = await client.get("/v1/bookings/bk_alice", headers={**auth(), "If-None-Match": tag, "Prefer": "wait=1"})
    assert r.status_code == 304 and r.headers["Preference-Applied"] == "wait=1" and r.headers["ETag"] == tag


@pytest.mark.parametrize("prefer", ["wait=0", "wait=31", "wait=1.5", "wait", "respond-async", "wait=-1"])
async def test_a_wait_out_of_range_or_malformed_is_ignored(client, app_state, prefer):  # noqa: F811
    _, state = app_state
    tag = (await client.get("/v1/bookings/bk_alice", headers=auth())).headers["ETag"]
    r = await client.get("/v1/bookings/bk_alice", headers={**auth(), "If-None-Match": tag, "Prefer": prefer})
    assert r.status_code == 304 and "Preference-Applied" not in r.headers
    assert state.waits.waited == []


async def test_without_if_none_match_prefer_wait_does_not_wait(client, app_state):  # noqa: F811
    _, state = app_state
    r = await client.get("/v1/bookings/bk_alice", headers={**auth(), "Prefer": "wait=5"})
    assert r.status_code == 200 and state.waits.waited == []


async def test_a_full_process_answers_at_once_without_preference_applied(client, app_state):  # noqa: F811
    _, state = app_state
    state.waits.full = True
    tag = (await client.get("/v1/bookings/bk_alice", headers=auth())).headers["ETag"]
    r = await client.get("/v1/bookings/bk_alice", headers={**auth(), "If-None-Match": tag, "Prefer": "wait=5"})
    assert r.status_code == 304 and "Preference-Applied" not in r.headers
