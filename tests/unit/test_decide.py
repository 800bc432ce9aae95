"""Pure decision code: no Kafka, no PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from booking_processor.decide import Batch
from booking_processor.undecidable import Undecidable
from schemas.commands import (
    CancelBooking,
    ConfirmBooking,
    CreateShow,
    ExpireBooking,
    ExtendBooking,
    RequestBooking,
)
from schemas.events import Refusal
from schemas.layout import Layout, Section

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LAYOUT = Layout((Section("A", 2, 4, 100), Section("B", 1, 3, 50)))


def _batch(now=T0) -> Batch:
    return Batch(shows={}, bookings={}, now=now)


def _create(batch: Batch, show_id: str = "s", hold: int = 120) -> None:
    batch.decide(
        CreateShow(
            command_id="c0",
            show_id=show_id,
            issued_at=T0,
            title="t",
            venue="v",
            starts_at=T0 + timedelta(days=30),
            hold_seconds=hold,
            sections=list(LAYOUT.sections),
        )
    )


def _request(n: int, seats=None, quantity=None, show_id="s") -> RequestBooking:
    return RequestBooking(
        command_id=f"c{n}",
        show_id=show_id,
        issued_at=T0,
        booking_id=f"b{n}",
        request_id=f"r{n}",
        customer_id=f"cust{n}",
        seats=seats,
        quantity=quantity,
    )


def test_create_show_emits_version_one_and_is_idempotent():
    batch = _batch()
    _create(batch)
    _create(batch)
    assert [e.type for e in batch.events] == ["ShowCreated"]
    assert batch.events[0].show_version == 1
    assert batch.events[0].seats_total == 11 == batch.events[0].seats_available


def test_hold_then_confirm():
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, seats=["A-1-1", "A-1-2"]))
    booking = batch.bookings["b1"]
    assert booking.status == "PENDING"
    assert booking.expires_at == T0 + timedelta(seconds=120)
    batch.decide(
        ConfirmBooking(
            command_id="c", show_id="s", issued_at=T0, booking_id="b1", customer_id="cust1", payment_reference="p"
        )
    )
    assert booking.status == "CONFIRMED"
    assert [e.show_version for e in batch.events] == [1, 2, 3]
    assert batch.events[-1].seats_available == 9
    assert batch.shows["s"].seat_map.owner["A-1-1"] == ("b1", "BOOKED")


def test_duplicate_request_is_a_noop():
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, quantity=2))
    batch.decide(_request(1, quantity=2))
    assert len(batch.events) == 2
    assert batch.shows["s"].seats_available == 9


@pytest.mark.parametrize(
    ("seats", "reason"),
    [
        (["A-1-9"], "invalid_seat"),
        (["C-1-1"], "invalid_seat"),
        (["A-3-1"], "invalid_seat"),
    ],
)
def test_rejections_for_bad_seat_lists(seats, reason):
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, seats=seats))
    assert (batch.bookings["b1"].status, batch.bookings["b1"].reason) == ("REJECTED", reason)
    assert batch.events[-1].type == "BookingRejected"
    assert batch.events[-1].show_version == 2


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
    assert batch.events[0].show_version == 0


def test_confirm_after_expiry_expires():
    batch = _batch()
    _create(batch, hold=10)
    batch.decide(_request(1, quantity=1))
    later = _batch(now=T0 + timedelta(seconds=10))
    later.shows, later.bookings = batch.shows, batch.bookings
    # Accepted by the intake at the deadline: too late, whenever it is decided.
    later.decide(
        ConfirmBooking(
            command_id="c",
            show_id="s",
            issued_at=T0 + timedelta(seconds=10),
            booking_id="b1",
            customer_id="cust1",
            payment_reference="p",
        )
    )
    assert (batch.bookings["b1"].status, batch.bookings["b1"].reason) == ("EXPIRED", "hold_expired")
    assert later.events[-1].type == "BookingExpired"
    assert batch.shows["s"].seats_available == 11


def test_confirm_accepted_in_time_is_honoured_however_late_it_is_decided():
    """API.md: what counts is when the intake accepted the confirm (its issued_at), not when the processor
    reached it: a pipeline stalled past the deadline does not cost the customer the seats."""
    batch = _batch()
    _create(batch, hold=10)
    batch.decide(_request(1, quantity=1))
    stalled = _batch(now=T0 + timedelta(minutes=5))
    stalled.shows, stalled.bookings = batch.shows, batch.bookings
    stalled.decide(
        ConfirmBooking(
            command_id="c",
            show_id="s",
            issued_at=T0 + timedelta(seconds=9),
            booking_id="b1",
            customer_id="cust1",
            payment_reference="p",
        )
    )
    # The expiry worker's command, issued after the deadline, comes after the confirm in the show's order.
    stalled.decide(ExpireBooking(command_id="e", show_id="s", issued_at=T0 + timedelta(seconds=11), booking_id="b1"))
    assert (batch.bookings["b1"].status, batch.bookings["b1"].reason) == ("CONFIRMED", None)
    assert [e.type for e in stalled.events] == ["BookingConfirmed"]
    assert batch.shows["s"].seats_available == 10


def test_expire_is_a_noop_before_due_and_when_repeated():
    batch = _batch()
    _create(batch, hold=10)
    batch.decide(_request(1, quantity=1))
    expire = ExpireBooking(command_id="c", show_id="s", issued_at=T0, booking_id="b1")
    batch.decide(expire)
    assert batch.bookings["b1"].status == "PENDING"
    later = _batch(now=T0 + timedelta(seconds=11))
    later.shows, later.bookings = batch.shows, batch.bookings
    later.decide(expire)
    later.decide(expire)
    assert batch.bookings["b1"].status == "EXPIRED"
    assert [e.type for e in later.events] == ["BookingExpired"]


def test_cancel_only_by_owner_and_only_when_live():
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, quantity=2))
    batch.decide(CancelBooking(command_id="c", show_id="s", issued_at=T0, booking_id="b1", customer_id="other"))
    assert batch.bookings["b1"].status == "PENDING"
    batch.decide(CancelBooking(command_id="c", show_id="s", issued_at=T0, booking_id="b1", customer_id="cust1"))
    batch.decide(CancelBooking(command_id="c", show_id="s", issued_at=T0, booking_id="b1", customer_id="cust1"))
    assert batch.bookings["b1"].status == "CANCELLED"
    assert [e.type for e in batch.events].count("BookingCancelled") == 1
    assert batch.shows["s"].seats_available == 11


def test_versions_grow_by_exactly_one_per_event():
    batch = _batch()
    _create(batch)
    for n in range(1, 20):
        batch.decide(_request(n, quantity=1))
    versions = [e.show_version for e in batch.events]
    assert versions == list(range(1, 21))
    assert len({e.event_id for e in batch.events}) == 20


def _confirm(n: int, customer: str | None = None) -> ConfirmBooking:
    return ConfirmBooking(
        command_id=f"k{n}",
        show_id="s",
        issued_at=T0,
        booking_id=f"b{n}",
        customer_id=customer or f"cust{n}",
        payment_reference="p",
    )


def _cancel(n: int) -> CancelBooking:
    return CancelBooking(command_id=f"x{n}", show_id="s", issued_at=T0, booking_id=f"b{n}", customer_id=f"cust{n}")


@pytest.mark.parametrize(
    ("setup", "action", "reason"),
    [
        ("cancel", "confirm", "booking_cancelled"),
        ("reject", "confirm", "booking_rejected"),
        ("reject", "cancel", "booking_rejected"),
    ],
)
def test_an_action_that_cannot_apply_leaves_its_reason(setup, action, reason):
    batch = _batch()
    _create(batch)
    if setup == "reject":
        batch.decide(_request(1, seats=["C-9-9"]))
    else:
        batch.decide(_request(1, quantity=1))
        batch.decide(_cancel(1))
    status = batch.bookings["b1"].status
    batch.decide(_confirm(1) if action == "confirm" else _cancel(1))
    booking = batch.bookings["b1"]
    assert booking.status == status  # unchanged but for the refusal
    assert (booking.refused.action, booking.refused.reason) == (action, reason)
    event = batch.events[-1]
    assert event.type == "BookingActionRefused" and event.refused == booking.refused
    assert [e.show_version for e in batch.events] == list(range(1, len(batch.events) + 1))


def test_confirming_twice_and_cancelling_twice_are_what_was_asked():
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, quantity=1))
    batch.decide(_confirm(1))
    batch.decide(_confirm(1))
    batch.decide(_cancel(1))
    batch.decide(_cancel(1))
    assert [e.type for e in batch.events] == ["ShowCreated", "BookingPending", "BookingConfirmed", "BookingCancelled"]
    assert batch.bookings["b1"].refused is None


def test_someone_elses_confirm_is_ignored():
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, quantity=1))
    batch.decide(_confirm(1, customer="mallory"))
    assert batch.bookings["b1"].status == "PENDING" and batch.bookings["b1"].refused is None


def test_an_undecidable_booking_request_is_rejected_invalid_request():
    batch = _batch()
    _create(batch)
    batch.decide(Undecidable("s", "RequestBooking", "b9", "cust9", "bad seat"))
    batch.decide(Undecidable("s", "RequestBooking", "b9", "cust9", "again"))  # redelivered: decided once
    booking = batch.bookings["b9"]
    assert (booking.status, booking.reason, booking.customer_id) == ("REJECTED", "invalid_request", "cust9")
    assert booking.request_id == "invalid:b9"
    assert [e.type for e in batch.events] == ["ShowCreated", "BookingRejected"]
    assert batch.events[-1].show_version == 2
    unknown = _batch()
    unknown.decide(Undecidable("nope", "RequestBooking", "b1", "c1", "bad"))
    assert unknown.events[0].show_version == 0 and unknown.events[0].event_id == "b1/rejected"


def test_an_undecidable_confirm_is_refused_and_a_show_creation_rejected_once():
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, quantity=1))
    batch.decide(Undecidable("s", "ConfirmBooking", "b1", "cust1", "NUL in payment reference"))
    assert batch.bookings["b1"].refused.reason == "invalid_request"
    assert batch.bookings["b1"].status == "PENDING"
    batch.decide(Undecidable("t", "CreateShow", None, None, "bad title"))
    batch.decide(Undecidable("t", "CreateShow", None, None, "bad title"))
    rejected = [e for e in batch.events if e.type == "ShowRejected"]
    assert len(rejected) == 1 and rejected[0].show_version == 0 and batch.new_rejected_shows == ["t"]
    batch.decide(Undecidable("s", "CreateShow", None, None, "exists already"))  # a show that exists stays
    assert len([e for e in batch.events if e.type == "ShowRejected"]) == 1


@pytest.mark.parametrize(
    ("value", "key", "kind"),
    [
        (b'{"type":"CreateShow","show_id":"s1","title":"a\\u0000b"}', b"s1", "CreateShow"),
        (
            b'{"type":"RequestBooking","show_id":"s1","booking_id":"b1","customer_id":"c","seats":["A-\\u00b9-1"]}',
            b"s1",
            "RequestBooking",
        ),
    ],
)
def test_what_a_refused_message_still_says(value, key, kind):
    salvaged = Undecidable.from_record(value, key, "error")
    assert salvaged is not None and salvaged.kind == kind and salvaged.show_id == "s1"


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (b"\x00\xffnot json", b"s1"),
        (b'["s1"]', b"s1"),
        (b'{"type":"RequestBooking","show_id":"s1","booking_id":"b1"}', b"s2"),  # another partition's show
        (b'{"type":"RequestBooking","show_id":"s\\u00001","booking_id":"b1"}', b"s\x001"),  # no valid show id
    ],
)
def test_a_message_that_names_no_show_of_its_partition_is_only_dead_lettered(value, key):
    assert Undecidable.from_record(value, key, "error") is None


# ---------------------------------------------------------------- sale rules (issue 19)
def _create_with(batch: Batch, starts_at=T0 + timedelta(days=30), hold=120, limit=10, extensions=2) -> None:
    batch.decide(
        CreateShow(
            command_id="c0",
            show_id="s",
            issued_at=T0,
            title="t",
            venue="v",
            starts_at=starts_at,
            hold_seconds=hold,
            sections=list(LAYOUT.sections),
            max_seats_per_customer=limit,
            max_hold_extensions=extensions,
        )
    )


def _mine(n: int, customer: str = "alice", **kw) -> RequestBooking:
    return msgspec.structs.replace(_request(n, **kw), customer_id=customer)


def _extend(booking_id: str, at=T0, customer: str = "alice") -> ExtendBooking:
    return ExtendBooking(command_id="x", show_id="s", issued_at=at, booking_id=booking_id, customer_id=customer)


def test_a_customer_beyond_the_show_s_limit_is_rejected_customer_limit():
    batch = _batch()
    _create_with(batch, limit=3)
    batch.decide(_mine(1, quantity=2))
    batch.decide(_mine(2, seats=["B-1-1", "B-1-2"]))  # 2 + 2 > 3
    batch.decide(_mine(3, quantity=1))  # 2 + 1 = 3
    batch.decide(_mine(4, quantity=1, customer="bob"))  # another customer's count is their own
    statuses = [(batch.bookings[f"b{n}"].status, batch.bookings[f"b{n}"].reason) for n in range(1, 5)]
    assert statuses == [("PENDING", None), ("REJECTED", "customer_limit"), ("PENDING", None), ("PENDING", None)]
    assert batch.shows["s"].live_seats == {"alice": 3, "bob": 1}


def test_released_seats_no_longer_count_and_confirmed_ones_do():
    batch = _batch()
    _create_with(batch, limit=2)
    batch.decide(_mine(1, quantity=2))
    batch.decide(
        ConfirmBooking(
            command_id="c", show_id="s", issued_at=T0, booking_id="b1", customer_id="alice", payment_reference="p"
        )
    )
    batch.decide(_mine(2, quantity=1))
    assert batch.bookings["b2"].reason == "customer_limit"
    batch.decide(CancelBooking(command_id="k", show_id="s", issued_at=T0, booking_id="b1", customer_id="alice"))
    batch.decide(_mine(3, quantity=2))
    assert batch.bookings["b3"].status == "PENDING"
    assert batch.shows["s"].live_seats == {"alice": 2}


def test_a_started_show_is_no_longer_on_sale():
    batch = _batch()
    _create_with(batch, starts_at=T0)
    batch.decide(_mine(1, quantity=1))
    assert (batch.bookings["b1"].status, batch.bookings["b1"].reason) == ("REJECTED", "sale_closed")


def test_best_available_in_a_section_or_at_a_price():
    batch = _batch()
    _create_with(batch)
    batch.decide(msgspec.structs.replace(_mine(1, quantity=2), section="B"))
    batch.decide(msgspec.structs.replace(_mine(2, quantity=2), price_cents=100))
    batch.decide(msgspec.structs.replace(_mine(3, quantity=2), section="Z"))
    assert batch.bookings["b1"].seats == ["B-1-1", "B-1-2"]
    assert batch.bookings["b2"].seats[0].startswith("A-")
    assert batch.bookings["b3"].reason == "invalid_seat"


def test_a_hold_is_extended_by_the_hold_time_a_bounded_number_of_times():
    batch = _batch()
    _create_with(batch, hold=120, extensions=2)
    batch.decide(_mine(1, quantity=1))
    booking = batch.bookings["b1"]
    batch.decide(_extend("b1"))
    batch.decide(_extend("b1"))
    assert (booking.expires_at, booking.extensions) == (T0 + timedelta(seconds=360), 2)
    assert [e.type for e in batch.events[-2:]] == ["BookingHoldExtended", "BookingHoldExtended"]
    assert batch.events[-1].expires_at == booking.expires_at and batch.events[-1].extensions == 2
    batch.decide(_extend("b1"))
    assert booking.refused is not None and (booking.refused.action, booking.refused.reason) == (
        "extend",
        "extension_limit",
    )
    assert booking.expires_at == T0 + timedelta(seconds=360)


def test_an_extension_stops_at_the_show_s_start_and_then_is_refused():
    batch = _batch()
    _create_with(batch, starts_at=T0 + timedelta(seconds=200), hold=120)
    batch.decide(_mine(1, quantity=1))
    booking = batch.bookings["b1"]
    batch.decide(_extend("b1"))
    assert booking.expires_at == T0 + timedelta(seconds=200)  # not 240: the sale closes at the start
    batch.decide(_extend("b1"))
    assert booking.refused is not None and booking.refused.reason == "sale_closed" and booking.extensions == 1


def test_an_extended_hold_is_not_expired_at_its_old_time():
    batch = _batch()
    _create_with(batch, hold=120)
    batch.decide(_mine(1, quantity=1))
    batch.decide(_extend("b1", at=T0 + timedelta(seconds=100)))
    later = Batch(shows=batch.shows, bookings=batch.bookings, now=T0 + timedelta(seconds=130))
    later.decide(ExpireBooking(command_id="e", show_id="s", issued_at=later.now, booking_id="b1"))
    assert batch.bookings["b1"].status == "PENDING" and later.events == []
    last = Batch(shows=batch.shows, bookings=batch.bookings, now=T0 + timedelta(seconds=240))
    last.decide(ExpireBooking(command_id="e2", show_id="s", issued_at=last.now, booking_id="b1"))
    assert batch.bookings["b1"].status == "EXPIRED"


def test_extending_a_booking_that_is_not_held_or_too_late_says_why():
    batch = _batch()
    _create_with(batch)
    batch.decide(_mine(1, quantity=1))
    batch.decide(
        ConfirmBooking(
            command_id="c", show_id="s", issued_at=T0, booking_id="b1", customer_id="alice", payment_reference="p"
        )
    )
    batch.decide(_extend("b1"))
    assert batch.bookings["b1"].refused == Refusal("extend", "booking_confirmed", T0)
    batch.decide(_mine(2, quantity=1))
    batch.decide(_extend("b2", customer="mallory"))  # not the owner's: nothing happens, nobody is told
    assert batch.bookings["b2"].refused is None and batch.bookings["b2"].extensions == 0
    batch.decide(_extend("b2", at=T0 + timedelta(seconds=120)))  # accepted when the hold had ended
    assert (batch.bookings["b2"].status, batch.bookings["b2"].reason) == ("EXPIRED", "hold_expired")


# ---------------------------------------------------------------- money (issue 20)
def test_a_booking_event_carries_the_total_of_its_seats_prices_once_it_has_seats():
    batch = _batch()
    _create(batch)
    assert batch.events[0].currency == "EUR"
    batch.decide(_request(1, seats=["A-1-1", "B-1-1", "B-1-2"]))
    pending = batch.events[-1]
    assert (pending.type, pending.total, pending.currency) == ("BookingPending", 200, "EUR")
    batch.decide(
        ConfirmBooking(
            command_id="c", show_id="s", issued_at=T0, booking_id="b1", customer_id="cust1", payment_reference="p"
        )
    )
    assert (batch.events[-1].type, batch.events[-1].total) == ("BookingConfirmed", 200)
    batch.decide(_request(2, seats=["A-1-1"]))  # taken: rejected, no seats, no total
    rejected = batch.events[-1]
    assert (rejected.type, rejected.seats, rejected.total, rejected.currency) == ("BookingRejected", [], None, None)
    batch.decide(_request(3, seats=["A-1-1"], show_id="nowhere"))
    assert batch.events[-1].total is None


def test_the_show_s_currency_is_the_bookings():
    batch = _batch()
    batch.decide(
        CreateShow(
            command_id="c0",
            show_id="y",
            issued_at=T0,
            title="t",
            venue="v",
            starts_at=T0 + timedelta(days=30),
            hold_seconds=120,
            sections=[Section("A", 1, 2, 1200)],
            currency="JPY",
        )
    )
    batch.decide(_request(1, quantity=2, show_id="y"))
    assert (batch.events[-1].total, batch.events[-1].currency) == (2400, "JPY")
