"""The waiting list, decided (booking_processor/decide.py): a customer joins only while the seats they want
are not free; released seats are offered in join order (first fit: a request the free seats cannot meet keeps
its place) as a PENDING hold of `waitlist_offer_seconds`; an offer that expires goes to the next."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from booking_processor.decide import Batch
from schemas import events as ev
from schemas.commands import CancelBooking, CloseSales, ExpireBooking, JoinWaitlist, LeaveWaitlist, RequestBooking
from schemas.layout import Section
from tests.support.decisions import T0, create_show

OFFER_S = 60


def _show(batch: Batch, seats: int = 4, limit: int = 10, sections=None, **sale) -> None:
    create_show(batch, seats, sections, max_seats_per_customer=limit, waitlist_offer_seconds=OFFER_S, **sale)


def _book(batch: Batch, n: int, quantity: int, customer: str | None = None) -> str:
    batch.decide(
        RequestBooking(
            command_id=f"r{n}",
            show_id="s",
            issued_at=T0,
            booking_id=f"b{n}",
            request_id=f"q{n}",
            customer_id=customer or f"holder{n}",
            quantity=quantity,
        )
    )
    return f"b{n}"


def _join(batch: Batch, customer: str, quantity: int, section: str | None = None, at: datetime = T0) -> None:
    batch.decide(
        JoinWaitlist(
            command_id=f"j-{customer}",
            show_id="s",
            issued_at=at,
            customer_id=customer,
            quantity=quantity,
            section=section,
            email=f"{customer}@example.com",
        )
    )


def _cancel(batch: Batch, booking_id: str) -> None:
    owner = batch.bookings[booking_id].customer_id
    batch.decide(CancelBooking(command_id="x", show_id="s", issued_at=T0, booking_id=booking_id, customer_id=owner))


def _places(batch: Batch) -> list[tuple[str, str, str | None]]:
    return [(e.customer_id, e.status, e.reason) for e in batch.events if isinstance(e, ev.WaitlistChanged)]


def _sold_out(seats: int = 4) -> Batch:
    batch = Batch(shows={}, bookings={}, now=T0)
    _show(batch, seats=seats)
    for n in range(seats // 2):
        _book(batch, n, 2)
    return batch


def test_a_customer_joins_only_while_the_seats_are_not_free_and_once():
    batch = Batch(shows={}, bookings={}, now=T0)
    _show(batch, seats=4)
    _join(batch, "early", 2)
    _book(batch, 1, 3)
    _join(batch, "ann", 2)  # one seat free: two are not
    _join(batch, "bob", 1)  # nobody waits and one seat is free: book it instead
    _join(batch, "ann", 2)  # waiting already: no second place
    assert _places(batch) == [
        ("early", "REFUSED", "seats_available"),
        ("ann", "WAITING", None),
        ("bob", "WAITING", None),  # someone waits, so bob's place is taken...
        ("bob", "OFFERED", None),  # ...and met at once by the free seat, which cannot meet ann's two
    ]
    show = batch.shows["s"]
    assert list(show.waitlist) == ["ann"] and show.waitlist["ann"].seq == 0  # a refusal takes no place
    offer = batch.events[-1]
    assert isinstance(offer, ev.BookingPending) and offer.waitlist_offer and offer.customer_id == "bob"


def test_released_seats_are_offered_in_join_order_as_a_hold_of_the_offer_time():
    batch = _sold_out()
    _join(batch, "ann", 2)
    _join(batch, "bob", 2)
    batch.now = T0 + timedelta(minutes=1)
    _cancel(batch, "b0")
    kinds = [e.type for e in batch.events[-3:]]
    assert kinds == ["BookingCancelled", "WaitlistChanged", "BookingPending"]
    offered, held = batch.events[-2], batch.events[-1]
    assert (offered.customer_id, offered.status, offered.booking_id) == ("ann", "OFFERED", held.booking_id)
    assert held.customer_id == "ann" and held.waitlist_offer and held.email == "ann@example.com"
    assert held.expires_at == batch.now + timedelta(seconds=OFFER_S) and len(held.seats) == 2
    assert list(batch.shows["s"].waitlist) == ["bob"]
    versions = [e.show_version for e in batch.events]
    assert versions == list(range(1, len(versions) + 1))  # one version per event, the waiting list's included


def test_a_request_the_free_seats_cannot_meet_keeps_its_place_and_the_next_that_fits_gets_them():
    batch = _sold_out(seats=6)
    _join(batch, "ann", 3)
    _join(batch, "bob", 2)
    _cancel(batch, "b1")  # two seats free: not enough for ann
    assert [p for p in _places(batch) if p[1] == "OFFERED"] == [("bob", "OFFERED", None)]
    assert list(batch.shows["s"].waitlist) == ["ann"]
    _cancel(batch, "b0")  # two free again: still not three
    assert list(batch.shows["s"].waitlist) == ["ann"]
    _cancel(batch, "b2")  # four: ann's three fit
    assert _places(batch)[-1] == ("ann", "OFFERED", None)
    assert len(batch.events[-1].seats) == 3


def test_an_offer_not_confirmed_in_time_expires_and_goes_to_the_next():
    batch = _sold_out()
    _join(batch, "ann", 2)
    _join(batch, "bob", 2)
    _cancel(batch, "b0")
    ann_offer = batch.events[-1].booking_id
    batch.now = T0 + timedelta(seconds=OFFER_S)
    batch.decide(ExpireBooking(command_id="e", show_id="s", issued_at=batch.now, booking_id=ann_offer))
    assert batch.bookings[ann_offer].status == "EXPIRED"
    assert _places(batch)[-1] == ("bob", "OFFERED", None)
    assert batch.shows["s"].waitlist == {}


def test_leaving_takes_the_place_away_and_leaving_twice_is_nothing():
    batch = _sold_out()
    _join(batch, "ann", 2)
    _join(batch, "bob", 2)
    for _ in range(2):
        batch.decide(LeaveWaitlist(command_id="l", show_id="s", issued_at=T0, customer_id="ann"))
    _cancel(batch, "b0")
    assert _places(batch) == [
        ("ann", "WAITING", None),
        ("bob", "WAITING", None),
        ("ann", "LEFT", None),
        ("bob", "OFFERED", None),
    ]


def test_the_customer_limit_counts_at_the_join_and_again_at_the_offer():
    batch = Batch(shows={}, bookings={}, now=T0)
    _show(batch, seats=4, limit=3)
    _book(batch, 0, 2, customer="ann")
    _book(batch, 1, 2)
    _join(batch, "ann", 2)  # 2 + 2 > 3
    _join(batch, "bob", 2)
    _join(batch, "cat", 1)
    _book(batch, 2, 1, customer="cat")  # nothing free: REJECTED, cat stays within the limit
    _cancel(batch, "b1")  # bob (2) gets the two seats
    assert _places(batch) == [
        ("ann", "REFUSED", "customer_limit"),
        ("bob", "WAITING", None),
        ("cat", "WAITING", None),
        ("bob", "OFFERED", None),
    ]


def test_nobody_joins_outside_the_sale_and_no_offer_is_made_after_it_closes():
    batch = Batch(shows={}, bookings={}, now=T0)
    opens = T0 + timedelta(hours=1)
    closes = T0 + timedelta(days=1)
    _show(batch, seats=2, sale_opens_at=opens, sale_closes_at=closes)
    _join(batch, "early", 1)
    _book(batch, 0, 2)  # before the opening: REJECTED, nothing held
    assert batch.bookings["b0"].reason == "sale_not_open"
    batch.decide(
        RequestBooking(
            command_id="r",
            show_id="s",
            issued_at=opens,
            booking_id="held",
            request_id="held",
            customer_id="h",
            quantity=2,
        )
    )
    _join(batch, "ann", 1, at=opens)
    _join(batch, "late", 1, at=closes)
    batch.now = closes
    _cancel(batch, "held")
    assert _places(batch) == [
        ("early", "REFUSED", "sale_not_open"),
        ("ann", "WAITING", None),
        ("late", "REFUSED", "sale_closed"),
    ]  # and the released seats are offered to nobody: the sale is over
    # The sale ended on its own: the expiry worker's CloseSales answers whoever still waits, once.
    for _ in range(2):
        batch.decide(CloseSales(command_id="z", show_id="s", issued_at=closes + timedelta(seconds=1)))
    assert _places(batch)[-1] == ("ann", "REFUSED", "sale_closed") and len(_places(batch)) == 4
    assert batch.shows["s"].waitlist == {}
    assert not any(isinstance(e, ev.ShowUpdated) for e in batch.events)  # the close itself was not moved


def test_a_section_is_waited_for_on_its_own():
    batch = Batch(shows={}, bookings={}, now=T0)
    _show(batch, sections=[Section("A", 1, 2, 100), Section("B", 1, 2, 50)])
    _book(batch, 0, 2)  # takes A (the first section)
    _join(batch, "ann", 2, section="A")  # B is free, A is not
    _join(batch, "bob", 2, section="B")  # B is free and nobody waits for... someone waits: taken and met
    assert [p[:2] for p in _places(batch)] == [("ann", "WAITING"), ("bob", "WAITING"), ("bob", "OFFERED")]
    assert all(s.startswith("B-") for s in batch.events[-1].seats)


def test_deciding_the_same_commands_again_gives_the_same_offers_across_a_reload():
    """All in one batch, or in batches with the line reloaded between them as store.py loads it (by seq, into a
    fresh state): the same offers, the same booking ids, the same seats."""

    def joins(batch: Batch) -> None:
        for name, quantity in (("ann", 3), ("bob", 1), ("cat", 2)):
            _join(batch, name, quantity)

    def outcome(batch: Batch) -> list[tuple]:
        return [(e.type, getattr(e, "booking_id", None), getattr(e, "seats", None)) for e in batch.events]

    one = _sold_out(seats=6)
    joins(one)
    _cancel(one, "b2")
    _cancel(one, "b0")

    first = _sold_out(seats=6)
    joins(first)
    show = first.shows["s"]
    reloaded = replace(
        show,
        waitlist={e.customer_id: replace(e) for e in sorted(show.waitlist.values(), key=lambda e: e.seq)},
        live_seats=dict(show.live_seats),
    )
    second = Batch(shows={"s": reloaded}, bookings=first.bookings, now=T0)
    _cancel(second, "b2")
    _cancel(second, "b0")
    assert outcome(first) + outcome(second) == outcome(one)


def test_the_offer_s_email_says_it_comes_from_the_waiting_list():
    from notifier.messages import email_for

    batch = _sold_out()
    _join(batch, "ann", 2)
    _cancel(batch, "b0")
    message = email_for(batch.events[-1], "box@example.org")
    assert message["To"] == "ann@example.com"
    assert message["Subject"].startswith("From the waiting list, seats held for you: A-1-")
    assert "you were next on the waiting list" in message.get_content()
    plain = email_for(_held_event(batch), "box@example.org")  # a hold a request made
    assert plain["Subject"].startswith("Seats held:")


def _held_event(batch: Batch) -> ev.BookingPending:
    (held,) = [e for e in batch.events if isinstance(e, ev.BookingPending) and e.booking_id == "b1"]
    return held
