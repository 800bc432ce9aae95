"""The live seat map and the place in line, through NGINX: every applied change of a show reaches an open
stream in version order; a client resumes after a version (the log backs it up, or it is told to reset);
a stream survives the loss of the intake instance serving it; a RECEIVED booking's place in line only
ever goes down, to its decision."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import msgspec
import pytest

from projections.keys import live_keys
from tests.support import ids
from tests.support.waiting import eventually


class Events:
    """A minimal EventSource: reads `id/event/data` blocks, remembers the last id, reconnects with it."""

    def __init__(self, base_url: str, path: str) -> None:
        self.base_url, self.path = base_url, path
        self.events: list[tuple[str, dict]] = []
        self.last_id: str | None = None
        self.connections = 0
        self.unavailable = 0
        self._task: asyncio.Task | None = None

    async def _follow(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=httpx.Timeout(30, read=60)) as http:
            while True:
                headers = {"Last-Event-ID": self.last_id} if self.last_id else {}
                with contextlib.suppress(httpx.HTTPError):
                    async with http.stream("GET", self.path, headers=headers) as r:
                        if r.status_code == 503:  # no instance right now (the front door says when): again later
                            self.unavailable += 1
                            await asyncio.sleep(float(r.headers.get("retry-after", "1")))
                            continue
                        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
                        self.connections += 1
                        block: dict[str, str] = {}
                        async for line in r.aiter_lines():
                            if line:
                                name, _, value = line.partition(": ")
                                block[name] = value
                                continue
                            if "event" in block:
                                self.events.append((block["event"], msgspec.json.decode(block.get("data", "{}"))))
                                if "id" in block:
                                    self.last_id = block["id"]
                            block = {}
                await asyncio.sleep(0.5)  # like EventSource's `retry: 1000`, a little sooner

    def start(self) -> Events:
        self._task = asyncio.create_task(self._follow())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def changes(self) -> list[dict]:
        return [data for kind, data in self.events if kind == "change"]

    def states(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for change in self.changes():
            for seat in change["changes"]:
                out[seat["seat_id"]] = seat["state"]
        return out


async def test_changes_stream_in_order_and_resume(api, redis):
    show_id = await api.create_show([{"name": "A", "rows": 2, "seats_per_row": 5, "price_cents": 1}])
    version = (await api.seat_map(show_id))["version"]
    stream = Events(api.base_url, f"/v1/shows/{show_id}/seats/stream?after={version}").start()
    try:
        customer = ids.customer("live")
        booking_id = (await api.book(customer, show_id, seats=["A-1-1", "A-1-2"])).json()["booking_id"]
        await eventually(
            lambda: asyncio.sleep(0, stream.states()),
            lambda s: s.get("A-1-2") == "held",
            interval=0.02,
            what="the hold on the open map",
        )
        await api.wait_status(customer, booking_id)
        await api.http.post(
            f"/v1/bookings/{booking_id}/confirm", json={"payment_reference": "p"}, headers=api.auth(customer)
        )
        await eventually(
            lambda: asyncio.sleep(0, stream.states()),
            lambda s: s.get("A-1-1") == "booked",
            interval=0.02,
            what="the confirmation on the open map",
        )
        versions = [c["version"] for c in stream.changes()]
        assert versions == list(range(version + 1, version + 1 + len(versions)))  # in order, no gap, no repeat
    finally:
        await stream.stop()

    # Resuming after version 1 replays every later change from the log, then goes on live.
    resumed = Events(api.base_url, f"/v1/shows/{show_id}/seats/stream?after=1").start()
    try:
        await eventually(
            lambda: asyncio.sleep(0, resumed.changes()),
            lambda c: len(c) == len(versions),
            what="the logged changes after version 1",
        )
        assert resumed.states() == {"A-1-1": "booked", "A-1-2": "booked"}
    finally:
        await resumed.stop()

    # A change log that no longer reaches back: the client is told to reset (and refetch /seats).
    await redis.delete((await live_keys(redis)).changes(show_id))
    told = Events(api.base_url, f"/v1/shows/{show_id}/seats/stream?after=1").start()
    try:
        await eventually(
            lambda: asyncio.sleep(0, told.events), lambda e: any(k == "reset" for k, _ in e), what="a reset"
        )
        assert next(d for k, d in told.events if k == "reset")["version"] == (await api.seat_map(show_id))["version"]
    finally:
        await told.stop()


async def test_a_stream_survives_losing_its_intake_instance(api, system):
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 10, "price_cents": 1}])
    version = (await api.seat_map(show_id))["version"]
    stream = Events(api.base_url, f"/v1/shows/{show_id}/seats/stream?after={version}").start()
    try:
        await eventually(lambda: asyncio.sleep(0, stream.connections), lambda n: n >= 1, what="connected")
        for intake in system.intakes:  # whichever instance serves it: lose one at a time
            intake.stop()
            try:
                customer = ids.customer("live-restart")
                r = await api.book(customer, show_id, quantity=1, retry_unavailable=True)  # as clients do
                assert r.status_code == 202, r.text
                await api.wait_status(customer, r.json()["booking_id"])
            finally:
                intake.start()  # never leave the system short of an instance for the tests after this one
        await eventually(
            lambda: asyncio.sleep(0, len(stream.states())),
            lambda n: n == 2,
            what="both holds, caught up after reconnecting",
        )
        versions = [c["version"] for c in stream.changes()]
        assert versions == sorted(set(versions)) == list(range(version + 1, version + 1 + len(versions)))
    finally:
        await stream.stop()


@pytest.mark.slow
async def test_place_in_line_only_goes_down_to_the_decision(api, system):
    show_id = await api.create_show([{"name": "A", "rows": 10, "seats_per_row": 10, "price_cents": 1}])
    system.processor.stop()  # a queue builds up
    try:
        customers = [ids.customer("line") for _ in range(30)]
        booked = [(c, (await api.book(c, show_id, quantity=1)).json()["booking_id"]) for c in customers]
        last_customer, last = booked[-1]
        await asyncio.sleep(0.3)
        waiting = (await api.booking(last_customer, last)).json()
        assert waiting["status"] == "RECEIVED" and waiting["queue_position"] >= 29
    finally:
        system.processor.start(wait=False)
    seen = []
    try:
        async with asyncio.timeout(60):
            while True:
                body = (await api.booking(last_customer, last)).json()
                if body["status"] != "RECEIVED":
                    assert "queue_position" not in body
                    break
                seen.append(body["queue_position"])
                await asyncio.sleep(0.01)
    finally:
        system.processor.wait_ready()  # ready again for the tests after this one, whatever happened here
    assert seen == sorted(seen, reverse=True), seen  # only ever down (through two intake instances)
    assert body["status"] == "PENDING"
