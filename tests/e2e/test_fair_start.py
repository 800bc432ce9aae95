"""The sale window and the fair start of issue 19, end to end: before the opening a request is decided
`sale_not_open`; the requests of the fair-start window stay RECEIVED until the window ends and are then
decided in the order the show's secret seed draws (recomputed here from the seed in PostgreSQL: the draw is a
pure function of the requests and the seed); after the window, first come, first served."""

from __future__ import annotations

import asyncio
import hashlib
import random
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import TopicPartition

from booking_processor.decide import Batch
from runtime.clients import kafka_consumer
from schemas import topics
from schemas.commands import Command, decode_command
from tests.support import ids
from tests.support.invariants import assert_no_overbooking, assert_projection_matches
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
    assert datetime.fromisoformat(too_early["sale_opens_at"]) == datetime.fromisoformat(show["sale_opens_at"])
    history = (await api.http.get("/v1/me/bookings", headers=api.auth(early))).json()["bookings"]
    assert [b.get("sale_opens_at") for b in history] == [too_early["sale_opens_at"]]

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


async def _commands_of(settings, partition: int, show_id: str) -> list[Command]:
    """The show's commands as they stand in its partition of booking.commands, in order."""
    consumer = kafka_consumer(settings, group_id=None)
    await consumer.start()
    try:
        tp = TopicPartition(topics.COMMANDS, partition)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        found: list[Command] = []
        while await consumer.position(tp) < end:
            for message in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                if message.key == show_id.encode():
                    found.append(decode_command(message.value, message.key))
        return found
    finally:
        await consumer.stop()


@pytest.mark.slow
async def test_a_processor_killed_during_the_window_decides_exactly_what_a_re_decision_of_the_commands_does(
    api, pg, redis, system, settings
):
    """SIGKILL the processor while the window's requests arrive, restart it after the window: every request
    is decided once, nothing is oversold, and the outcome is exactly what deciding the show's commands again,
    from Kafka, in memory, gives (the draw depends on nothing but the commands and the seed they carry)."""
    window_s = 6
    opens = datetime.now(UTC) + timedelta(seconds=3)
    show_id = await api.create_show(
        [{"name": "A", "rows": 2, "seats_per_row": 8, "price_cents": 100}],
        sale_opens_at=_rfc3339(opens),
        fair_start_window_s=window_s,
        max_seats_per_customer=2,
    )
    people = [ids.customer("crowd") for _ in range(30)]
    bots = [ids.customer("bot") for _ in range(5)]
    wanted = [(c, 1 + n % 2) for n, c in enumerate(people)] + [(b, 2) for b in bots for _ in range(4)]
    random.Random(5).shuffle(wanted)  # bots before and after the kill

    async def book(customer: str, quantity: int) -> tuple[str, str]:
        r = await api.book(customer, show_id, quantity=quantity, retry_unavailable=True)
        assert r.status_code == 202, r.text
        return customer, r.json()["booking_id"]

    await _sleep_until(opens + timedelta(milliseconds=200))
    first = await asyncio.gather(*[book(c, q) for c, q in wanted[:25]])
    await eventually(
        lambda: pg.fetchval("SELECT count(*) FROM fair_start_entries WHERE show_id = $1", show_id),
        lambda n: n >= 5,
        timeout=3,
        interval=0.05,
        what="some of the window's requests kept",
    )
    system.processor.kill()
    rest = await asyncio.gather(*[book(c, q) for c, q in wanted[25:]])
    assert datetime.now(UTC) < opens + timedelta(seconds=window_s), "the requests did not fit in the window"
    await _sleep_until(opens + timedelta(seconds=window_s))
    system.processor.start()

    accepted = first + rest
    decided = [await api.wait_status(c, b, timeout=60) for c, b in accepted]
    assert len({d["booking_id"] for d in decided}) == len(wanted)
    rows = await pg.fetch("SELECT booking_id, status, reason, seats FROM bookings WHERE show_id = $1", show_id)
    stored = {r["booking_id"]: (r["status"], r["reason"], list(r["seats"])) for r in rows}
    assert set(stored) == {b for _, b in accepted}  # each decided once: one row per accepted request
    assert sum(len(s) for st, _, s in stored.values() if st == "PENDING") == 16  # sold out, not oversold
    await assert_no_overbooking(pg, show_id)
    assert await pg.fetchval("SELECT count(*) FROM fair_start_entries WHERE show_id = $1", show_id) == 0

    partition = await pg.fetchval("SELECT partition FROM shows WHERE show_id = $1", show_id)
    again = Batch(shows={}, bookings={}, now=datetime.now(UTC))
    for command in await _commands_of(settings, partition, show_id):
        again.decide(command)
    redecided = {b.booking_id: (b.status, b.reason, b.seats) for b in again.bookings.values()}
    assert redecided == stored
    await assert_projection_matches(pg, redis, [show_id])  # and the read models agree with PostgreSQL
    for bot in bots:  # four requests of two seats each: no more than the limit
        mine = [stored[b] for c, b in accepted if c == bot]
        assert sum(len(s) for st, _, s in mine if st == "PENDING") <= 2


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
