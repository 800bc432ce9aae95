"""An admin's commands about a whole show, decided (booking_processor/decide.py): closing the sale and
cancelling the show, in the show's order, exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from booking_processor.decide import Batch
from notifier.messages import email_for
from schemas import events as ev
from schemas.commands import (
    CancelShow,
    CloseSales,
    ConfirmBooking,
    ExtendBooking,
    JoinWaitlist,
    RequestBooking,
)
from tests.support.decisions import T0, create_show


def _show(batch: Batch, seats: int = 4, **extra) -> None:
    create_show(batch, seats, **extra)


def _book(batch: Batch, n: int, quantity: int = 2, at: datetime = T0) -> str:
    batch.decide(
        RequestBooking(
            command_id=f"r{n}",
            show_id="s",
            issued_at=at,
            booking_id=f"b{n}",
            request_id=f"q{n}",
            customer_id=f"c{n}",
            email=f"c{n}@example.com",
            quantity=quantity,
        )
    )
    return f"b{n}"


def _batch() -> Batch:
    """A batch that creates the show: every booking of it is in the batch (live_loaded)."""
    batch = Batch(shows={}, bookings={}, now=T0)
    _show(batch)
    return batch


def test_a_cancelled_show_cancels_every_live_booking_answers_the_waiting_and_sells_nothing_again():
    batch = _batch()
    held, sold = _book(batch, 1), _book(batch, 2)
    batch.decide(
        ConfirmBooking(
            command_id="k", show_id="s", issued_at=T0, booking_id=sold, customer_id="c2", payment_reference="p"
        )
    )
    batch.decide(JoinWaitlist(command_id="j", show_id="s", issued_at=T0, customer_id="w", quantity=1))
    later = T0 + timedelta(minutes=1)
    for _ in range(2):  # a second cancel is a no-op
        batch.decide(CancelShow(command_id="x", show_id="s", issued_at=later))
    show = batch.shows["s"]
    assert show.cancelled_at == later and show.sale_closes_at == later
    assert [(batch.bookings[b].status, batch.bookings[b].reason) for b in (held, sold)] == [
        ("CANCELLED", "show_cancelled")
    ] * 2
    assert show.seats_available == 4 and show.live_seats == {} and show.waitlist == {}
    tail = [(e.type, getattr(e, "status", None), getattr(e, "reason", None)) for e in batch.events[-4:]]
    assert tail == [
        ("ShowUpdated", None, None),
        ("BookingCancelled", "CANCELLED", "show_cancelled"),
        ("BookingCancelled", "CANCELLED", "show_cancelled"),
        ("WaitlistChanged", "REFUSED", "show_cancelled"),
    ]
    assert email_for(batch.events[-2], "box@example.org")["Subject"].startswith("The show was cancelled")
    _book(batch, 3, 1, at=later)
    assert (batch.bookings["b3"].status, batch.bookings["b3"].reason) == ("REJECTED", "show_cancelled")
    assert sum(1 for e in batch.events if isinstance(e, ev.ShowUpdated)) == 1


def test_cancelling_during_a_fair_start_answers_the_window_s_waiting_requests():
    opens = T0 + timedelta(hours=1)
    batch = Batch(shows={}, bookings={}, now=T0)
    _show(batch, sale_opens_at=opens, fair_start_window_s=10, fair_start_seed="ab" * 16)
    _book(batch, 1, at=opens + timedelta(seconds=1))  # waits for the draw
    assert "b1" not in batch.bookings
    batch.decide(CancelShow(command_id="x", show_id="s", issued_at=opens + timedelta(seconds=2)))
    assert (batch.bookings["b1"].status, batch.bookings["b1"].reason) == ("REJECTED", "show_cancelled")
    assert batch.drawn_shows == ["s"]


def test_a_cancel_in_a_batch_that_did_not_load_the_show_s_bookings_is_a_defect_not_a_partial_cancel():
    created = _batch()
    later = Batch(shows=created.shows, bookings={}, now=T0)  # a show of before, its bookings not loaded
    with pytest.raises(AssertionError, match="did not load its bookings"):
        later.decide(CancelShow(command_id="x", show_id="s", issued_at=T0))


def test_a_show_created_and_cancelled_in_one_batch_is_cancelled():
    batch = _batch()
    _book(batch, 1)
    batch.decide(CancelShow(command_id="x", show_id="s", issued_at=T0))
    assert batch.bookings["b1"].reason == "show_cancelled" and batch.shows["s"].cancelled_at == T0


def test_closing_the_sale_stops_new_requests_keeps_holds_confirmable_and_answers_the_waiting():
    batch = _batch()
    held = _book(batch, 1, quantity=4)
    batch.decide(JoinWaitlist(command_id="j", show_id="s", issued_at=T0, customer_id="w", quantity=1))
    closes = T0 + timedelta(seconds=30)
    batch.decide(CloseSales(command_id="z", show_id="s", issued_at=closes))
    batch.decide(CloseSales(command_id="z2", show_id="s", issued_at=closes + timedelta(seconds=5)))  # closed already
    assert batch.shows["s"].sale_closes_at == closes
    assert [e.type for e in batch.events if isinstance(e, ev.ShowUpdated)] == ["ShowUpdated"]
    assert (batch.events[-1].status, batch.events[-1].reason) == ("REFUSED", "sale_closed")
    _book(batch, 2, 1, at=closes)
    assert batch.bookings["b2"].reason == "sale_closed"
    batch.decide(ExtendBooking(command_id="e", show_id="s", issued_at=closes, booking_id=held, customer_id="c1"))
    assert batch.bookings[held].refused.reason == "sale_closed"  # no more time: the sale is over
    batch.decide(
        ConfirmBooking(
            command_id="k", show_id="s", issued_at=closes, booking_id=held, customer_id="c1", payment_reference="p"
        )
    )
    assert batch.bookings[held].status == "CONFIRMED"  # a hold made before the close is honoured


def test_a_sale_closed_before_it_opens_says_closed_not_come_back_later():
    opens = T0 + timedelta(days=1)
    batch = Batch(shows={}, bookings={}, now=T0)
    _show(batch, sale_opens_at=opens)
    batch.decide(CloseSales(command_id="z", show_id="s", issued_at=T0))
    _book(batch, 1, 1, at=T0 + timedelta(hours=1))
    _book(batch, 2, 1, at=opens)
    assert [batch.bookings[b].reason for b in ("b1", "b2")] == ["sale_closed", "sale_closed"]


def _update(batch: Batch, at: datetime = T0, **change) -> ev.Event:
    from schemas.commands import UpdateShow

    batch.decide(UpdateShow(command_id="u", show_id="s", issued_at=at, **change))
    return batch.events[-1]


def test_title_and_venue_change_any_time_the_start_only_before_the_sale_opens():
    opens = T0 + timedelta(days=1)
    batch = Batch(shows={}, bookings={}, now=T0)
    _show(batch, sale_opens_at=opens)
    old_start = batch.shows["s"].starts_at
    moved = old_start + timedelta(days=2)
    event = _update(batch, title="New title", starts_at=moved)
    assert isinstance(event, ev.ShowUpdated) and event.refused is None
    assert (event.title, event.venue, event.starts_at, event.previous_starts_at) == ("New title", "v", moved, old_start)
    assert event.sale_closes_at == moved  # the close followed the start: it follows it still
    assert _update(batch, at=opens, starts_at=moved + timedelta(days=1)).refused == "sale_open"
    assert batch.shows["s"].starts_at == moved
    assert _update(batch, at=opens, venue="Other hall").venue == "Other hall"  # the venue may change on sale
    assert _update(batch, starts_at=opens - timedelta(hours=1)).refused == "invalid_start"  # before the opening
    batch.decide(CancelShow(command_id="x", show_id="s", issued_at=opens))
    assert _update(batch, at=opens, title="Too late").refused == "show_cancelled"
    assert batch.shows["s"].title == "New title"


def test_a_show_on_sale_since_its_creation_keeps_its_start():
    batch = _batch()
    event = _update(batch, starts_at=T0 + timedelta(days=40))
    assert event.refused == "sale_open" and event.starts_at == T0 + timedelta(days=30)


def test_an_undecidable_join_or_change_is_answered_invalid_request():
    from booking_processor.undecidable import Undecidable

    batch = _batch()
    batch.decide(Undecidable("s", "JoinWaitlist", None, "ann", "refused by the database"))
    batch.decide(Undecidable("s", "UpdateShow", None, None, "refused by the database"))
    place, change = batch.events[-2:]
    assert (place.type, place.customer_id, place.status, place.reason) == (
        "WaitlistChanged",
        "ann",
        "REFUSED",
        "invalid_request",
    )
    assert (change.type, change.refused) == ("ShowUpdated", "invalid_request")
