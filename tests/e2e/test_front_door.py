"""The seed's front door with the real intake instances behind the real NGINX: traffic reaches every
instance, losing one in the middle of a storm loses nothing, no instance alive is a JSON 503, and the
per-customer write limit is one limit however many instances there are."""

from __future__ import annotations

import asyncio
import random
import time

import httpx
import pytest

from tests.support import ids
from tests.support.front_door import Nginx
from tests.support.invariants import assert_no_overbooking, assert_projection_matches
from tests.support.processes import Service
from tests.support.waiting import eventually

STORM = 1000


async def _booking_id(api, customer: str, show_id: str, quantity: int) -> str:
    """A client that retries a network error or a 502/503 with the same Idempotency-Key, as API.md asks."""
    r = await api.book(customer, show_id, quantity=quantity, retry_unavailable=True)
    assert r.status_code in (200, 202), r.text
    return r.json()["booking_id"]


class _Answers:
    """Requests each instance answered (the last upstream tried, with a 2xx) since it was made, read from
    NGINX's access log a new piece at a time."""

    def __init__(self, front_door: Nginx) -> None:
        self.front_door, self.offset, self.by = front_door, front_door.access_log_end(), {}

    def read(self) -> dict[str, int]:
        entries, self.offset = self.front_door.access_entries_after(self.offset)
        for entry in entries:
            if 200 <= entry["status"] < 300 and entry["upstream_addr"] not in ("", "-"):
                last = entry["upstream_addr"].split(", ")[-1]
                self.by[last] = self.by.get(last, 0) + 1
        return self.by


@pytest.mark.slow
async def test_losing_an_instance_mid_storm_loses_nothing(api, system, pg, redis):
    show_id = await api.create_show([{"name": "A", "rows": 10, "seats_per_row": 10, "price_cents": 1}])
    rng = random.Random(9)
    customers = [ids.customer("storm-kill") for _ in range(250)]
    requests = [(rng.choice(customers), rng.randint(1, 3)) for _ in range(STORM)]
    victim = system.intakes[1]
    victim_addr = f"127.0.0.1:{victim.port}"
    answers = _Answers(system.front_door)

    async def killer() -> None:  # in the middle of the storm: once the victim has answered some of it
        await eventually(
            lambda: asyncio.sleep(0, answers.read().get(victim_addr, 0)),
            lambda n: n >= 20,
            timeout=60,
            interval=0.2,
            what="the victim answering part of the storm",
        )
        victim.kill()

    results, _ = await asyncio.gather(asyncio.gather(*[_booking_id(api, c, show_id, q) for c, q in requests]), killer())
    assert len(results) == STORM and len(set(results)) == STORM  # every request: exactly one booking id
    await eventually(
        lambda: pg.fetchval("SELECT count(*) FROM bookings WHERE booking_id = ANY($1::text[])", results),
        lambda n: n == STORM,
        timeout=60,
        what="every booking decided",
    )
    await assert_no_overbooking(pg, show_id)
    await assert_projection_matches(pg, redis, [show_id])
    answered = answers.read()
    assert len(answered) == 2 and sum(answered.values()) >= STORM, answered  # both instances answered some

    victim.start()  # back, and NGINX sends it traffic again (once its fail_timeout has passed)
    answers = _Answers(system.front_door)

    async def victim_answers() -> int:
        assert (await api.http.get(f"/v1/shows/{show_id}")).status_code == 200
        return answers.read().get(victim_addr, 0)

    await eventually(victim_answers, lambda n: n > 0, interval=0.1, what="the restarted instance answering again")


async def test_no_instance_alive_is_a_json_503(system, tmp_path):
    intake = Service("intake-lonely", "intake", {}, system.log_dir).start()
    front_door = Nginx(system.log_dir / "nginx-lonely", [intake.port]).start()
    try:
        async with httpx.AsyncClient(base_url=front_door.url, timeout=10) as http:
            assert (await http.get("/readyz")).status_code == 200
            intake.kill()
            r = await http.get("/v1/shows")
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("application/json")
            assert r.json()["error"]["code"] == "unavailable" and int(r.headers["retry-after"]) > 0
            assert r.headers["x-request-id"]
    finally:
        front_door.stop()
        intake.stop()


async def test_the_write_limit_is_one_limit_across_instances(api, system):
    """Two instances behind NGINX, a burst of 20 and then one write per 10 s: a customer's burst of 60 requests
    gets 20 through (within 10%), not 40 — however long the 60 take to answer."""
    env = {"BOXOFFICE_RATE_LIMIT_PER_S": "0.1", "BOXOFFICE_RATE_LIMIT_BURST": "20"}
    show_id = await api.create_show()
    customer = ids.customer("eager")
    pair = [Service(f"intake-limited-{i}", "intake", env, system.log_dir).start() for i in (1, 2)]
    front_door = Nginx(system.log_dir / "nginx-limited", [s.port for s in pair]).start()
    try:
        async with httpx.AsyncClient(base_url=front_door.url, timeout=30) as http:
            started = time.monotonic()
            answers = await asyncio.gather(
                *[
                    http.post(
                        f"/v1/shows/{show_id}/bookings",
                        json={"quantity": 1},
                        headers={**api.auth(customer), "Idempotency-Key": ids.key()},
                    )
                    for _ in range(60)
                ]
            )
            elapsed = time.monotonic() - started
        accepted = sum(r.status_code == 202 for r in answers)
        limited = [r for r in answers if r.status_code == 429]
        assert accepted + len(limited) == 60
        allowed = 20 + 0.1 * elapsed  # the burst, and what refilled while the requests were in flight
        assert accepted <= allowed * 1.1, (accepted, elapsed)
        assert accepted >= 20
        assert all(int(r.headers["retry-after"]) >= 1 for r in limited)
        served = {e["upstream_addr"] for e in front_door.access_entries()}
        assert {f"127.0.0.1:{s.port}" for s in pair} <= served  # both instances counted against one bucket
    finally:
        front_door.stop()
        for service in pair:
            service.stop()
