"""The event-apply script against the real Redis: idempotent on show_version, gaps refused and recorded."""

from __future__ import annotations

import secrets

import msgspec

from projections.apply import APPLIED, DUPLICATE, GAP, EventApplier
from projections.keys import Keys
from schemas.events import event_from_dict


def _created(show_id: str):
    return event_from_dict(
        {
            "type": "ShowCreated",
            "event_id": f"{show_id}/1",
            "show_id": show_id,
            "show_version": 1,
            "occurred_at": "2026-01-01T00:00:00.000Z",
            "title": "t",
            "venue": "v",
            "starts_at": "2027-01-01T00:00:00.000Z",
            "hold_seconds": 60,
            "sections": [{"name": "A", "rows": 1, "seats_per_row": 4, "price_cents": 1}],
            "seats_total": 4,
            "seats_available": 4,
            "created_at": "2026-01-01T00:00:00.000Z",
        }
    )


def _booking(show_id: str, version: int, kind: str, status: str, seats: list[str], available: int):
    return event_from_dict(
        {
            "type": kind,
            "event_id": f"{show_id}/{version}",
            "show_id": show_id,
            "show_version": version,
            "occurred_at": "2026-01-01T00:00:00.000Z",
            "booking_id": f"b-{show_id}",
            "customer_id": "c",
            "email": None,
            "phone": None,
            "seats": seats,
            "status": status,
            "reason": None,
            "expires_at": None,
            "created_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-01T00:00:00.000Z",
            "seats_available": available,
        }
    )


async def test_duplicates_skipped_gaps_refused(redis):
    keys = Keys(f"test:{secrets.token_hex(4)}")
    applier = EventApplier(redis)
    show = f"s-{secrets.token_hex(3)}"
    pending = _booking(show, 2, "BookingPending", "PENDING", ["A-1-1", "A-1-2"], 2)
    confirmed = _booking(show, 3, "BookingConfirmed", "CONFIRMED", ["A-1-1", "A-1-2"], 2)
    cancelled = _booking(show, 4, "BookingCancelled", "CANCELLED", ["A-1-1", "A-1-2"], 4)
    try:
        assert await applier.apply([_created(show), pending, pending], keys) == [APPLIED, APPLIED, DUPLICATE]
        # the change log: one entry per call, keyed by the last version it holds, the changes in order
        entries = await redis.xrange(keys.changes(show))
        assert [entry_id for entry_id, _ in entries] == [b"2-1"]
        logged = msgspec.json.decode(entries[0][1][b"changes"])
        assert [c["version"] for c in logged] == [1, 2]
        assert logged[1]["changes"] == [{"seat_id": "A-1-1", "state": "held"}, {"seat_id": "A-1-2", "state": "held"}]
        assert await redis.smembers(keys.held(show)) == {b"A-1-1", b"A-1-2"}
        # version 4 before 3: refused and recorded, nothing changes
        assert await applier.apply([cancelled], keys) == [GAP]
        assert await redis.hget(keys.show(show), "gap") == b"4"
        assert await redis.hget(keys.show(show), "version") == b"2"
        assert await applier.apply([confirmed, cancelled, confirmed], keys) == [APPLIED, APPLIED, DUPLICATE]
        assert await redis.smembers(keys.held(show)) == set() == await redis.smembers(keys.booked(show))
        doc = msgspec.json.decode(await redis.hget(keys.booking(f"b-{show}"), "doc"))
        assert doc["status"] == "CANCELLED" and doc["seats"] == ["A-1-1", "A-1-2"]
        assert await redis.hmget(keys.show(show), "version", "available") == [b"4", b"4"]
    finally:
        async for key in redis.scan_iter(match=keys.pattern()):
            await redis.unlink(key)


def _place(show_id: str, version: int, customer: str, status: str, seq: int, booking_id: str | None = None):
    return event_from_dict(
        {
            "type": "WaitlistChanged",
            "event_id": f"{show_id}/{version}",
            "show_id": show_id,
            "show_version": version,
            "occurred_at": "2026-01-01T00:00:00.000Z",
            "customer_id": customer,
            "status": status,
            "quantity": 2,
            "seq": seq,
            "booking_id": booking_id,
            "joined_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-01T00:00:00.000Z",
            "seats_available": 0,
        }
    )


async def test_the_waiting_list_s_places_and_positions(redis):
    """Joins, a leave and an offer, applied once each: each customer's place reads with its position in line,
    a join the intake wrote as RECEIVED is replaced by its decision and never written over a WAITING one."""
    from projections.reads import ReadModels
    from schemas.api import WaitlistView

    keys = Keys(f"test:{secrets.token_hex(4)}")
    applier = EventApplier(redis)
    reads = ReadModels(redis, keys.namespace)
    show = f"s-{secrets.token_hex(3)}"
    t0 = _created(show).created_at
    try:
        assert await reads.waitlist_mark(show, "ann") == ""
        await reads.record_waitlist_received(WaitlistView(show, "ann", "RECEIVED", 2, t0), "")
        assert (await reads.waitlist_entry(show, "ann")).status == "RECEIVED"
        joins = [_place(show, 2 + n, name, "WAITING", n) for n, name in enumerate(("ann", "bob", "cat"))]
        assert await applier.apply([_created(show), *joins, joins[1]], keys) == [APPLIED] * 4 + [DUPLICATE]
        ann = await reads.waitlist_entry(show, "ann")
        assert (ann.status, ann.position, ann.waiting) == ("WAITING", 1, 3)
        mark = await reads.waitlist_mark(show, "ann")
        await reads.record_waitlist_received(WaitlistView(show, "ann", "RECEIVED", 2, t0), mark)  # again
        assert (await reads.waitlist_entry(show, "ann")).status == "WAITING"
        left = _place(show, 5, "ann", "LEFT", 0)
        offered = _place(show, 6, "bob", "OFFERED", 1, booking_id="bk_offer")
        assert await applier.apply([left, offered], keys) == [APPLIED, APPLIED]
        assert (await reads.waitlist_entry(show, "ann")).position is None
        # ann joins again and her join is decided (and applied) before the intake writes RECEIVED: kept.
        mark = await reads.waitlist_mark(show, "ann")
        refused = msgspec.structs.replace(_place(show, 7, "ann", "REFUSED", 0), reason="seats_available")
        assert await applier.apply([refused], keys) == [APPLIED]
        await reads.record_waitlist_received(WaitlistView(show, "ann", "RECEIVED", 2, t0), mark)
        assert (await reads.waitlist_entry(show, "ann")).status == "REFUSED"
        # with nothing applied in between, a place that ended reads RECEIVED again at a new join
        mark = await reads.waitlist_mark(show, "ann")
        await reads.record_waitlist_received(WaitlistView(show, "ann", "RECEIVED", 2, t0), mark)
        assert (await reads.waitlist_entry(show, "ann")).status == "RECEIVED"
        bob, cat = await reads.waitlist_entry(show, "bob"), await reads.waitlist_entry(show, "cat")
        assert (bob.status, bob.booking_id, bob.position) == ("OFFERED", "bk_offer", None)
        assert (cat.status, cat.position, cat.waiting) == ("WAITING", 1, 1)
        assert await reads.waitlist_entry(show, "nobody") is None
        assert await redis.hget(keys.show(show), "version") == b"7"
    finally:
        async for key in redis.scan_iter(match=keys.pattern()):
            await redis.unlink(key)


async def test_the_show_says_how_many_seats_are_held_and_when_the_first_hold_ends(redis):
    """Sold out and all held read differently: holds are kept by their end, a confirm or an expiry ends one,
    an extension moves it, a refused action leaves it."""
    from datetime import datetime

    from projections.reads import ReadModels

    keys = Keys(f"test:{secrets.token_hex(4)}")
    applier = EventApplier(redis)
    reads = ReadModels(redis, keys.namespace)
    show = f"s-{secrets.token_hex(3)}"

    def booking(version: int, kind: str, status: str, booking_id: str, seats: list[str], available: int, ends=None):
        event = _booking(show, version, kind, status, seats, available)
        return msgspec.structs.replace(
            event, booking_id=booking_id, expires_at=datetime.fromisoformat(ends) if ends else None
        )

    first = booking(2, "BookingPending", "PENDING", "b1", ["A-1-1", "A-1-2"], 2, "2027-01-01T10:05:00+00:00")
    second = booking(3, "BookingPending", "PENDING", "b2", ["A-1-3", "A-1-4"], 0, "2027-01-01T10:02:00+00:00")
    try:
        await applier.apply([_created(show), first, second], keys)
        found = (await reads.lookup_show(show)).show
        assert (found.seats_available, found.seats_held) == (0, 4)
        assert found.next_hold_ends_at == datetime.fromisoformat("2027-01-01T10:02:00+00:00")
        refused = booking(4, "BookingActionRefused", "PENDING", "b2", ["A-1-3", "A-1-4"], 0)
        extended = booking(
            5, "BookingHoldExtended", "PENDING", "b2", ["A-1-3", "A-1-4"], 0, "2027-01-01T10:09:00+00:00"
        )
        await applier.apply([refused, extended], keys)
        assert (await reads.lookup_show(show)).show.next_hold_ends_at == datetime.fromisoformat(
            "2027-01-01T10:05:00+00:00"
        )
        confirmed = booking(6, "BookingConfirmed", "CONFIRMED", "b1", ["A-1-1", "A-1-2"], 0)
        confirmed2 = booking(7, "BookingConfirmed", "CONFIRMED", "b2", ["A-1-3", "A-1-4"], 0)
        await applier.apply([confirmed, confirmed2], keys)
        (listed,), _ = await reads.list_shows(10, None)
        assert (listed.seats_available, listed.seats_held, listed.next_hold_ends_at) == (0, 0, None)  # sold out
    finally:
        async for key in redis.scan_iter(match=keys.pattern()):
            await redis.unlink(key)
