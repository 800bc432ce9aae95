"""Pure decision code: no Kafka, no PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking_processor.decide import Batch
from schemas.commands import CancelBooking, ConfirmBooking, CreateShow, ExpireBooking, RequestBooking
from schemas.layout import Layout, Section

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LAYOUT = Layout((Section("A", 2, 4, 100), Section("B", 1, 3, 50)))


def _batch(now=T0) -> Batch:
    return Batch(shows={}, bookings={}, now=now)


def _create(batch: Batch, show_id: str = "s", hold: int = 120) -> None:
    batch.decide(CreateShow(command_id="c0", show_id=show_id, issued_at="x", title="t", venue="v",
                            starts_at=T0, hold_seconds=hold, layout=LAYOUT))


def _request(n: int, seats=None, quantity=None, show_id="s") -> RequestBooking:
    return RequestBooking(command_id=f"c{n}", show_id=show_id, issued_at="x", booking_id=f"b{n}",
                          request_id=f"r{n}", customer_id=f"cust{n}", email=None, phone=None,
                          seats=seats, quantity=quantity)


def test_create_show_emits_version_one_and_is_idempotent():
    batch = _batch()
    _create(batch)
    _create(batch)
    assert [e["type"] for e in batch.events] == ["ShowCreated"]
    assert batch.events[0]["show_version"] == 1
    assert batch.events[0]["seats_total"] == 11 == batch.events[0]["seats_available"]


def test_hold_then_confirm():
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, seats=["A-1-1", "A-1-2"]))
    booking = batch.bookings["b1"]
    assert booking.status == "PENDING"
    assert booking.expires_at == T0 + timedelta(seconds=120)
    batch.decide(ConfirmBooking(command_id="c", show_id="s", issued_at="x", booking_id="b1",
                                customer_id="cust1", payment_reference="p"))
    assert booking.status == "CONFIRMED"
    assert [e["show_version"] for e in batch.events] == [1, 2, 3]
    assert batch.events[-1]["seats_available"] == 9
    assert batch.shows["s"].seat_map.owner["A-1-1"] == ("b1", "BOOKED")


def test_duplicate_request_is_a_noop():
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, quantity=2))
    batch.decide(_request(1, quantity=2))
    assert len(batch.events) == 2
    assert batch.shows["s"].seats_available == 9


@pytest.mark.parametrize(("seats", "reason"), [
    (["A-1-9"], "invalid_seat"), (["C-1-1"], "invalid_seat"), (["A-01-1"], "invalid_seat"),
    (["A-1-1", "A-1-1"], "invalid_seat"), ([f"A-1-{i}" for i in range(1, 12)], "too_many_seats"),
])
def test_rejections_for_bad_seat_lists(seats, reason):
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, seats=seats))
    assert (batch.bookings["b1"].status, batch.bookings["b1"].reason) == ("REJECTED", reason)
    assert batch.events[-1]["type"] == "BookingRejected"
    assert batch.events[-1]["show_version"] == 2


def test_seat_unavailable_then_sold_out():
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, seats=["A-1-1"]))
    batch.decide(_request(2, seats=["A-1-1", "A-1-2"]))
    assert batch.bookings["b2"].reason == "seat_unavailable"
    batch.decide(_request(3, quantity=10))
    assert batch.bookings["b3"].status == "PENDING"
    batch.decide(_request(4, quantity=1))
    assert batch.bookings["b4"].reason == "sold_out"
    batch.decide(_request(5, seats=["B-1-1"]))
    assert batch.bookings["b5"].reason == "sold_out"


def test_unknown_show_is_rejected_with_version_zero():
    batch = _batch()
    batch.decide(_request(1, quantity=1, show_id="nope"))
    assert batch.bookings["b1"].reason == "show_not_found"
    assert batch.events[0]["show_version"] == 0


def test_confirm_after_expiry_expires():
    batch = _batch()
    _create(batch, hold=10)
    batch.decide(_request(1, quantity=1))
    later = _batch(now=T0 + timedelta(seconds=10))
    later.shows, later.bookings = batch.shows, batch.bookings
    later.decide(ConfirmBooking(command_id="c", show_id="s", issued_at="x", booking_id="b1",
                                customer_id="cust1", payment_reference="p"))
    assert (batch.bookings["b1"].status, batch.bookings["b1"].reason) == ("EXPIRED", "hold_expired")
    assert later.events[-1]["type"] == "BookingExpired"
    assert batch.shows["s"].seats_available == 11


def test_expire_is_a_noop_before_due_and_when_repeated():
    batch = _batch()
    _create(batch, hold=10)
    batch.decide(_request(1, quantity=1))
    expire = ExpireBooking(command_id="c", show_id="s", issued_at="x", booking_id="b1")
    batch.decide(expire)
    assert batch.bookings["b1"].status == "PENDING"
    later = _batch(now=T0 + timedelta(seconds=11))
    later.shows, later.bookings = batch.shows, batch.bookings
    later.decide(expire)
    later.decide(expire)
    assert batch.bookings["b1"].status == "EXPIRED"
    assert [e["type"] for e in later.events] == ["BookingExpired"]


def test_cancel_only_by_owner_and_only_when_live():
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, quantity=2))
    batch.decide(CancelBooking(command_id="c", show_id="s", issued_at="x", booking_id="b1", customer_id="other"))
    assert batch.bookings["b1"].status == "PENDING"
    batch.decide(CancelBooking(command_id="c", show_id="s", issued_at="x", booking_id="b1", customer_id="cust1"))
    batch.decide(CancelBooking(command_id="c", show_id="s", issued_at="x", booking_id="b1", customer_id="cust1"))
    assert batch.bookings["b1"].status == "CANCELLED"
    assert [e["type"] for e in batch.events].count("BookingCancelled") == 1
    assert batch.shows["s"].seats_available == 11


def test_versions_grow_by_exactly_one_per_event():
    batch = _batch()
    _create(batch)
    for n in range(1, 20):
        batch.decide(_request(n, quantity=1))
    versions = [e["show_version"] for e in batch.events]
    assert versions == list(range(1, 21))
    assert len({e["event_id"] for e in batch.events}) == 20
