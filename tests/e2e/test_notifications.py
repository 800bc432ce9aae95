"""Notifications reach a real SMTP server exactly once per event, across restarts and replays; a failing
mail server leads to retries and a dead letter while bookings keep being decided."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections import Counter

import httpx
import msgspec
import pytest
from aiokafka import TopicPartition

from runtime.clients import kafka_consumer
from schemas import topics
from tests.support import ids
from tests.support.kafka_lag import group_lag
from tests.support.notifiers import events_end, notifier_service, start_group_at
from tests.support.pg_servers import kill_primary, start_nodes
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually


async def _book_and_settle(api, email: str) -> tuple[str, str]:
    """PENDING, then CONFIRMED: two events that notify; plus a rejection: three in all."""
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 1}])
    customer = ids.customer("mail")
    booking_id = (await api.book(customer, show_id, quantity=2, email=email)).json()["booking_id"]
    await api.wait_status(customer, booking_id)
    await api.http.post(
        f"/v1/bookings/{booking_id}/confirm", json={"payment_reference": "p"}, headers=api.auth(customer)
    )
    await api.wait_status(customer, booking_id, {"CONFIRMED"})
    rejected = (await api.book(customer, show_id, quantity=1, email=email)).json()["booking_id"]
    assert (await api.wait_status(customer, rejected))["reason"] == "sold_out"
    return booking_id, rejected


async def test_one_email_per_event_across_restart_and_replay(api, system, settings):
    email = f"{secrets.token_hex(4)}@example.com"
    # Both groups start where booking.events stood before this test's first event: the replay re-reads
    # everything this test produced, but not the whole suite's topic (tens of thousands of events after the browser
    # tests; from offset 0 it once needed more than 120 s, then more than 300 s, on a busy CI machine).
    replay_from = await events_end(settings)
    with SmtpSink() as sink:
        group = f"notifier-{secrets.token_hex(3)}"
        await start_group_at(settings, group, replay_from)
        notifier = notifier_service(system, sink.port, group).start()
        try:
            booking_id, rejected = await _book_and_settle(api, email)
            messages = await eventually(
                lambda: asyncio.sleep(0, sink.to(email)), lambda m: len(m) >= 3, timeout=30, what="three emails"
            )
            subjects = sorted(m["Subject"].split(":")[0].split(" (")[0] for m in messages)
            assert subjects == ["Booking confirmed", "Seats held", "We could not book your seats"]
            assert {m["X-Boxoffice-Booking"] for m in messages} == {booking_id, rejected}

            notifier.kill()  # crash, then a restart of the same group
            notifier.start()
            # Replay of its input: a notifier of a new group reads booking.events from before this test's events.
            await start_group_at(settings, group + "-replay", replay_from)
            replayer = notifier_service(system, sink.port, group + "-replay").start()
            try:
                one_more = ids.customer("mail-after")
                show_id = await api.create_show()
                last = (await api.book(one_more, show_id, quantity=1, email=email)).json()["booking_id"]
                await api.wait_status(one_more, last)
                await eventually(
                    lambda: asyncio.sleep(0, sink.to(email)),
                    lambda m: len(m) >= 4,
                    timeout=30,
                    what="the email of the new booking",
                )
                # Both groups through the whole topic (committed, so every email they would send is sent):
                # any duplicate is in the sink by now.
                for through in (group, group + "-replay"):
                    await eventually(
                        lambda g=through: group_lag(settings, g, topics.EVENTS),
                        lambda n: n == 0,
                        timeout=120,
                        interval=0.5,
                        what=f"{through} through booking.events",
                    )
            finally:
                replayer.stop()
        finally:
            notifier.stop()
        messages = sink.to(email)
        assert len(messages) == 4
        assert len({m["Message-ID"] for m in messages}) == 4


@pytest.mark.slow
async def test_failing_mail_server_retries_then_dead_letters_while_bookings_go_on(api, system, pg, settings):
    email = f"{secrets.token_hex(4)}@example.com"
    dlq = TopicPartition(topics.NOTIFICATIONS_DLQ, 0)
    reader = kafka_consumer(settings, group_id=None)
    await reader.start()
    reader.assign([dlq])
    start = (await reader.end_offsets([dlq]))[dlq]
    with SmtpSink(refuse=True) as sink:
        group = f"notifier-{secrets.token_hex(3)}"
        notifier = notifier_service(
            system, sink.port, group, BOXOFFICE_NOTIFY_MAX_ATTEMPTS="3", BOXOFFICE_NOTIFY_BACKOFF_S="0.1"
        ).start()
        try:
            show_id = await api.create_show()
            customer = ids.customer("unlucky")
            booking_id = (await api.book(customer, show_id, quantity=1, email=email)).json()["booking_id"]
            assert (await api.wait_status(customer, booking_id))["status"] == "PENDING"
            event_id = await pg.fetchval(
                "SELECT event_id FROM outbox_events WHERE show_id = $1 AND show_version = 2", show_id
            )
            row = await eventually(
                lambda: pg.fetchrow("SELECT * FROM notifications WHERE event_id = $1", event_id),
                lambda r: r is not None and r["status"] == "dead",
                timeout=30,
                what="notification dead",
            )
            assert row["attempts"] == 3 and "451" in row["last_error"]
            # Bookings are decided while the mail server fails.
            other = ids.customer("still-booking")
            again = (await api.book(other, show_id, quantity=1)).json()["booking_id"]
            assert (await api.wait_status(other, again))["status"] == "PENDING"
        finally:
            notifier.stop()
    try:
        reader.seek(dlq, start)
        found = []
        async with asyncio.timeout(20):
            while not found:
                for records in (await reader.getmany(dlq, timeout_ms=500)).values():
                    found += [
                        msgspec.json.decode(r.value)
                        for r in records
                        if msgspec.json.decode(r.value)["event_id"] == event_id
                    ]
        assert found[0]["channel"] == "email" and "451" in found[0]["error"]
        assert found[0]["event"]["booking_id"] == booking_id
    finally:
        await reader.stop()


@pytest.mark.slow
async def test_one_bad_address_stalls_nobody_and_its_retries_survive_a_restart(api, system, pg):
    """Retries live in PostgreSQL, not in the consumer's batch: the others' mail goes out at once, a SIGTERM
    does not wait out a backoff, and the restarted notifier takes the retries up where they were."""
    bad = f"bad-{secrets.token_hex(4)}@example.com"
    good = [f"good-{secrets.token_hex(4)}@example.com" for _ in range(3)]
    with SmtpSink(refuse_to={bad}) as sink:
        group = f"notifier-{secrets.token_hex(3)}"
        # The retry is 60..180 s away (120 s, jittered ±50%): nothing in this test waits that long by accident.
        env = {"BOXOFFICE_NOTIFY_MAX_ATTEMPTS": "2", "BOXOFFICE_NOTIFY_BACKOFF_S": "120"}
        notifier = notifier_service(system, sink.port, group, **env).start()
        try:
            show_id = await api.create_show()
            unlucky = ids.customer("bad-address")
            first = (await api.book(unlucky, show_id, quantity=1, email=bad)).json()["booking_id"]
            await api.wait_status(unlucky, first)
            for address in good:  # booked after the bad one, in the same partition
                customer = ids.customer("good-address")
                await api.wait_status(
                    customer, (await api.book(customer, show_id, quantity=1, email=address)).json()["booking_id"]
                )
            await eventually(
                lambda: asyncio.sleep(0, [m for a in good for m in sink.to(a)]),
                lambda m: len(m) == 3,
                what="the good addresses' mail",
            )
            event_id = f"{show_id}/2"
            row = await eventually(
                lambda: pg.fetchrow("SELECT * FROM notifications WHERE event_id = $1", event_id),
                lambda r: r is not None and r["attempts"] >= 1,
                what="the first attempt failed",
            )
            # The others' mail went out while the bad address waits for its retry: nobody queued behind it.
            assert (row["status"], row["attempts"]) == ("sending", 1) and row["next_attempt_at"] is not None
            stopped = time.monotonic()
            assert notifier.stop() == 0
            assert time.monotonic() - stopped < 30  # a SIGTERM does not wait out the backoff (60 s or more)
            # The backoff passes while the notifier is down; the restarted one finds the retry in PostgreSQL.
            await pg.execute("UPDATE notifications SET next_attempt_at = now() WHERE event_id = $1", event_id)
            notifier.start()
            row = await eventually(
                lambda: pg.fetchrow("SELECT * FROM notifications WHERE event_id = $1", event_id),
                lambda r: r["status"] == "dead",
                timeout=60,
                what="retried to the end",
            )
            assert row["attempts"] == 2
        finally:
            notifier.stop()
        assert [len(sink.to(a)) for a in good] == [1, 1, 1]
        assert sink.to(bad) == []


def _gauge(metrics: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", metrics, re.MULTILINE)
    assert match, f"{name} not in the metrics"
    return float(match.group(1))


@pytest.mark.slow
async def test_no_email_twice_when_the_notifier_dies_while_its_shard_is_down(api, system, pg):
    """The chaos run's duplicates: the primary of the show's shard is lost mid-storm (its node SIGKILLed: the
    bookkeeping is away until the standby is promoted), the notifier is SIGKILLed meanwhile, then both come
    back. Every email goes out, and none twice beyond the deliveries that were in flight at the kill (sent
    or not, their outcome unrecorded): the notifier stops sending while its bookkeeping is away, so those are
    at most its concurrency, not every event it had fetched."""
    tag = secrets.token_hex(3)
    storm = 400
    with SmtpSink(delay_s=0.2) as sink:  # a busy mail server: the storm's mail is still going out at the stop
        group = f"notifier-{tag}"
        notifier = notifier_service(system, sink.port, group, BOXOFFICE_NOTIFY_LEASE_S="5").start()
        down = False
        try:
            # Holds of an hour: on a slow run no hold expires before the count below (an expiry is an event too).
            show_id = await api.create_show(
                [{"name": "A", "rows": 20, "seats_per_row": 50, "price_cents": 1}], hold_seconds=3600
            )
            shard = pg.map.shard_of_show(show_id)
            addresses: dict[str, str] = {}

            async def book(i: int) -> None:
                address = f"storm-{tag}-{i}@example.com"
                r = await api.book(ids.customer("storm"), show_id, quantity=1, email=address, retry_unavailable=True)
                assert r.status_code == 202, r.text
                addresses[r.json()["booking_id"]] = address

            booking = asyncio.gather(*(book(i) for i in range(storm)))
            ours = lambda: [m for m in sink.collector.messages if m["To"].startswith(f"storm-{tag}-")]  # noqa: E731
            await eventually(
                lambda: asyncio.sleep(0, ours()), lambda m: len(m) >= 60, timeout=60, what="the storm's mail going out"
            )
            await asyncio.to_thread(kill_primary, system.settings.stack_dir, shard)
            down = True
            await asyncio.sleep(2)  # what was in flight is sent meanwhile; nothing new may be
            async with httpx.AsyncClient() as http:
                metrics = (await http.get(f"{notifier.url}/metrics")).text
            in_flight = int(_gauge(metrics, "boxoffice_notifier_deliveries_in_flight"))
            unrecorded = int(_gauge(metrics, "boxoffice_notifier_deliveries_unrecorded"))
            notifier.kill()
            sent_at_kill = len(ours())
            await asyncio.to_thread(start_nodes)
            down = False
            notifier.start()
            await booking
            events = await eventually(
                lambda: pg.fetch("SELECT event_id FROM outbox_events WHERE show_id = $1 AND show_version > 1", show_id),
                lambda rows: len(rows) == storm,
                timeout=120,
                what="every accepted booking decided",
            )
            event_ids = {r["event_id"] for r in events}
            await eventually(
                lambda: pg.fetchval(
                    "SELECT count(*) FROM notifications WHERE event_id = ANY($1::text[]) "
                    "AND channel = 'email' AND status = 'sent'",
                    list(event_ids),
                ),
                lambda n: n == storm,
                timeout=180,
                interval=0.5,
                what="every email recorded sent",
            )
        finally:
            if down:
                await asyncio.to_thread(start_nodes)
            notifier.stop()
        copies = Counter(m["Message-ID"] for m in ours())
        duplicates = sum(n - 1 for n in copies.values())
        print(
            f"storm of {storm}: {sent_at_kill} emails out at the kill, {in_flight} deliveries in flight "
            f"({unrecorded} sent, unrecorded), {duplicates} sent twice, {storm - len(copies)} missing"
        )
        assert set(copies) == {f"<{e}@boxoffice>" for e in event_ids}  # none missing, none of another event
        assert {m["To"] for m in ours()} == set(addresses.values())
        assert duplicates <= in_flight
