"""Pure decisions: given the locked state of the shows and bookings a batch touches, decide every command
in order, mutate that state in memory and return the events. No I/O; unit-tested without Kafka or PostgreSQL.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from booking_processor.seat_map import SeatMap
from schemas import events as ev
from schemas.commands import (
    MAX_SEATS_PER_BOOKING,
    CancelBooking,
    Command,
    ConfirmBooking,
    CreateShow,
    ExpireBooking,
    RequestBooking,
)
from schemas.layout import Layout
from schemas.validation import format_time

PENDING, REJECTED, CONFIRMED, EXPIRED, CANCELLED = "PENDING", "REJECTED", "CONFIRMED", "EXPIRED", "CANCELLED"
LIVE = frozenset({PENDING, CONFIRMED})


@dataclass(slots=True)
class ShowState:
    show_id: str
    title: str
    venue: str
    starts_at: datetime
    hold_seconds: int
    layout: Layout
    version: int
    created_at: datetime
    seat_map: SeatMap
    is_new: bool = False

    @property
    def seats_total(self) -> int:
        return self.layout.seats_total

    @property
    def seats_available(self) -> int:
        return self.seat_map.available


@dataclass(slots=True)
class BookingState:
    booking_id: str
    request_id: str
    show_id: str
    customer_id: str
    email: str | None
    phone: str | None
    status: str
    requested_seats: list[str] | None
    requested_quantity: int | None
    seats: list[str]
    reason: str | None
    expires_at: datetime | None
    payment_reference: str | None
    created_at: datetime
    updated_at: datetime


@dataclass
class Batch:
    """The state one transaction decides over, and what it changed."""

    shows: dict[str, ShowState]
    bookings: dict[str, BookingState]
    now: datetime
    new_shows: list[str] = field(default_factory=list)
    new_bookings: list[str] = field(default_factory=list)
    updated_bookings: set[str] = field(default_factory=set)
    changed_shows: set[str] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)
    _times: dict[datetime | None, str | None] = field(default_factory=dict)

    def _time(self, value: datetime | None) -> str | None:
        """RFC 3339 text of a time; a batch formats its few distinct times once each."""
        text = self._times.get(value)
        if text is None and value is not None:
            text = self._times[value] = format_time(value)
        return text

    # ------------------------------------------------------------------ dispatch
    def decide(self, command: Command) -> None:
        handler = _HANDLERS[type(command)]
        handler(self, command)

    # ------------------------------------------------------------------ events
    def _emit(self, show: ShowState | None, kind: str, body: dict[str, Any], show_id: str, subject: str) -> None:
        if show is not None:
            show.version += 1
            self.changed_shows.add(show.show_id)
        version = show.version if show is not None else 0
        event = {
            "type": kind,
            # Deterministic: (show, version) is unique; version 0 only rejects a booking of an unknown show.
            "event_id": f"{show_id}/{version}" if version else f"{subject}/rejected",
            "show_id": show_id,
            "show_version": version,
            "occurred_at": self._time(self.now),
        }
        event.update(body)
        self.events.append(event)

    def _booking_event(self, kind: str, booking: BookingState, show: ShowState | None) -> None:
        self._emit(show, kind, {
            "booking_id": booking.booking_id,
            "customer_id": booking.customer_id,
            "email": booking.email,
            "phone": booking.phone,
            "seats": booking.seats,
            "status": booking.status,
            "reason": booking.reason,
            "expires_at": self._time(booking.expires_at),
            "created_at": self._time(booking.created_at),
            "updated_at": self._time(booking.updated_at),
            "seats_available": show.seats_available if show is not None else None,
        }, booking.show_id, booking.booking_id)

    def _set_status(self, booking: BookingState, status: str, reason: str | None) -> None:
        booking.status = status
        booking.reason = reason
        booking.updated_at = self.now
        if booking.booking_id not in self.new_bookings:
            self.updated_bookings.add(booking.booking_id)

    # ------------------------------------------------------------------ handlers
    def create_show(self, cmd: CreateShow) -> None:
        if cmd.show_id in self.shows:
            return  # redelivered or repeated: the show exists already
        show = ShowState(
            show_id=cmd.show_id, title=cmd.title, venue=cmd.venue, starts_at=cmd.starts_at,
            hold_seconds=cmd.hold_seconds, layout=cmd.layout, version=0, created_at=self.now,
            seat_map=SeatMap(cmd.layout, {}), is_new=True,
        )
        self.shows[cmd.show_id] = show
        self.new_shows.append(cmd.show_id)
        self._emit(show, ev.SHOW_CREATED, {
            "title": show.title, "venue": show.venue, "starts_at": format_time(show.starts_at),
            "hold_seconds": show.hold_seconds, "sections": show.layout.to_list(),
            "seats_total": show.seats_total, "seats_available": show.seats_available,
            "created_at": self._time(show.created_at),
        }, show.show_id, show.show_id)

    def request_booking(self, cmd: RequestBooking) -> None:
        if cmd.booking_id in self.bookings:
            return  # the same request decided before: a retry or a redelivery
        show = self.shows.get(cmd.show_id)
        booking = BookingState(
            booking_id=cmd.booking_id, request_id=cmd.request_id, show_id=cmd.show_id,
            customer_id=cmd.customer_id, email=cmd.email, phone=cmd.phone, status=REJECTED,
            requested_seats=cmd.seats, requested_quantity=cmd.quantity, seats=[], reason=None,
            expires_at=None, payment_reference=None, created_at=self.now, updated_at=self.now,
        )
        self.bookings[booking.booking_id] = booking
        self.new_bookings.append(booking.booking_id)
        reason, seats = _choose_seats(show, cmd)
        if reason is not None or show is None:
            booking.reason = reason
            self._booking_event(ev.BOOKING_REJECTED, booking, show)
            return
        show.seat_map.claim(seats, booking.booking_id)
        booking.status = PENDING
        booking.seats = seats
        booking.expires_at = self.now + timedelta(seconds=show.hold_seconds)
        self._booking_event(ev.BOOKING_PENDING, booking, show)

    def confirm_booking(self, cmd: ConfirmBooking) -> None:
        booking, show = self._owned(cmd.booking_id, cmd.show_id, cmd.customer_id)
        if booking is None or show is None or booking.status != PENDING:
            return  # unknown, not the owner's, or already past PENDING: nothing to do
        assert booking.expires_at is not None
        if self.now >= booking.expires_at:
            self._expire(booking, show)
            return
        show.seat_map.book(booking.seats, booking.booking_id)
        booking.payment_reference = cmd.payment_reference
        self._set_status(booking, CONFIRMED, None)
        self._booking_event(ev.BOOKING_CONFIRMED, booking, show)

    def cancel_booking(self, cmd: CancelBooking) -> None:
        booking, show = self._owned(cmd.booking_id, cmd.show_id, cmd.customer_id)
        if booking is None or show is None or booking.status not in LIVE:
            return
        show.seat_map.release(booking.seats, booking.booking_id)
        self._set_status(booking, CANCELLED, None)
        self._booking_event(ev.BOOKING_CANCELLED, booking, show)

    def expire_booking(self, cmd: ExpireBooking) -> None:
        booking = self.bookings.get(cmd.booking_id)
        show = self.shows.get(cmd.show_id)
        if booking is None or show is None or booking.show_id != show.show_id or booking.status != PENDING:
            return  # late or repeated expiry: a no-op
        assert booking.expires_at is not None
        if self.now < booking.expires_at:
            return  # not due yet by the database clock; the expiry worker will ask again
        self._expire(booking, show)

    def _expire(self, booking: BookingState, show: ShowState) -> None:
        show.seat_map.release(booking.seats, booking.booking_id)
        self._set_status(booking, EXPIRED, "hold_expired")
        self._booking_event(ev.BOOKING_EXPIRED, booking, show)

    def _owned(self, booking_id: str, show_id: str, customer_id: str) -> tuple[BookingState | None,
                                                                              ShowState | None]:
        booking = self.bookings.get(booking_id)
        if booking is None or booking.show_id != show_id or booking.customer_id != customer_id:
            return None, None
        return booking, self.shows.get(show_id)


def _choose_seats(show: ShowState | None, cmd: RequestBooking) -> tuple[str | None, list[str]]:
    """(rejection reason, seats); the reason is None when the seats can be held."""
    if show is None:
        return "show_not_found", []
    seat_map = show.seat_map
    if cmd.seats is not None:
        seats = cmd.seats
        if len(seats) > MAX_SEATS_PER_BOOKING:
            return "too_many_seats", []
        if len(set(seats)) != len(seats) or not all(show.layout.contains(s) for s in seats):
            return "invalid_seat", []
        if seat_map.available == 0:
            return "sold_out", []
        if not all(seat_map.is_free(s) for s in seats):
            return "seat_unavailable", []
        return None, list(seats)
    assert cmd.quantity is not None
    if cmd.quantity > MAX_SEATS_PER_BOOKING:
        return "too_many_seats", []
    chosen = seat_map.best_available(cmd.quantity)
    if chosen is None:
        return "sold_out", []
    return None, chosen


_HANDLERS: dict[type, Callable[[Batch, Any], None]] = {
    CreateShow: Batch.create_show,
    RequestBooking: Batch.request_booking,
    ConfirmBooking: Batch.confirm_booking,
    CancelBooking: Batch.cancel_booking,
    ExpireBooking: Batch.expire_booking,
}
