"""Pure decisions: given the locked state of the shows and bookings a batch touches, decide every command
in order, mutate that state in memory and return the events. No I/O; unit-tested without Kafka or PostgreSQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec

from booking_processor.seat_map import SeatMap
from booking_processor.undecidable import INVALID_REQUEST, Undecidable
from schemas import events as ev
from schemas.commands import (
    CancelBooking,
    CancelShow,
    CheckIn,
    CloseSales,
    Command,
    ConfirmBooking,
    CreateShow,
    DrawFairStart,
    ExpireBooking,
    ExtendBooking,
    JoinWaitlist,
    LeaveWaitlist,
    RecordRefund,
    RequestBooking,
    SettlePayment,
    StartCheckout,
    UpdateShow,
)
from schemas.events import CANCELLED, CONFIRMED, EXPIRED, LEFT, OFFERED, PENDING, REFUSED, REJECTED, WAITING
from schemas.fields import (
    DEFAULT_MAX_HOLD_EXTENSIONS,
    DEFAULT_MAX_SEATS_PER_CUSTOMER,
    DEFAULT_WAITLIST_OFFER_SECONDS,
)
from schemas.layout import Layout
from schemas.money import DEFAULT_CURRENCY
from schemas.payments import Payment, Settlement
from schemas.tickets import ticket_id

LIVE = frozenset({PENDING, CONFIRMED})


@dataclass(slots=True)
class WaitEntry:
    """A customer waiting for seats of a show; `seq` orders the line (join order)."""

    customer_id: str
    seq: int
    quantity: int
    section: str | None
    email: str | None
    phone: str | None
    joined_at: datetime


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
    # The sale: requests accepted from `sale_opens_at` (None: since the creation, no check) until
    # `sale_closes_at`; those of the first `fair_start_window_s` (only with an opening) wait as entries and
    # are decided together, in the order `fair_start_order` draws.
    sale_opens_at: datetime | None
    sale_closes_at: datetime
    is_new: bool = False
    fair_start_window_s: int = 0
    fair_start_seed: str = ""
    fair_start_drawn: bool = False
    waitlist_offer_seconds: int = DEFAULT_WAITLIST_OFFER_SECONDS
    # customer -> their place in line, in join order (loaded with the seat map, kept by the single writer).
    waitlist: dict[str, WaitEntry] = field(default_factory=dict)
    waitlist_seq: int = 0  # the next place's seq
    cancelled_at: datetime | None = None
    max_seats_per_customer: int = DEFAULT_MAX_SEATS_PER_CUSTOMER
    max_hold_extensions: int = DEFAULT_MAX_HOLD_EXTENSIONS
    currency: str = DEFAULT_CURRENCY
    # The cancellation terms: a CONFIRMED booking may be cancelled until `cancellable_until_hours` before the
    # start (None: never), and `refund_percent` of what was paid goes back.
    cancellable_until_hours: int | None = 0
    refund_percent: int = 100
    # customer -> seats of their PENDING and CONFIRMED bookings of this show. Loaded with the seat map under
    # the show's row lock and kept by the same single writer with every claim and release, so the limit is
    # exact: the show's commands are decided one after the other, each seeing every decision before it.
    live_seats: dict[str, int] = field(default_factory=dict)

    @property
    def fair_start_ends_at(self) -> datetime:
        return (self.sale_opens_at or self.created_at) + timedelta(seconds=self.fair_start_window_s)

    @property
    def awaits_draw(self) -> bool:
        """A fair start whose entries have not been drawn yet."""
        return self.fair_start_window_s > 0 and not self.fair_start_drawn

    def in_fair_start(self, issued_at: datetime) -> bool:
        """Accepted after the opening of a fair start not drawn yet (and before the sale closed)."""
        return (
            self.awaits_draw
            and self.sale_opens_at is not None
            and self.sale_opens_at <= issued_at < self.sale_closes_at
        )

    def draw_may_come(self, latest_issued: datetime | None, now: datetime) -> bool:
        """Whether a batch whose latest command was accepted at `latest_issued` (decided at `now`) may draw
        this show's fair start: then its stored entries must be loaded (store.load_batch)."""
        return self.awaits_draw and max(latest_issued or now, now) >= self.fair_start_ends_at

    @property
    def cancellation_closes_at(self) -> datetime | None:
        """Until when a CONFIRMED booking may be cancelled (None: it may not)."""
        if self.cancellable_until_hours is None:
            return None
        return self.starts_at - timedelta(hours=self.cancellable_until_hours)

    def refund_of(self, booking: BookingState) -> int:
        """What the terms give back of the booking's payment (minor units, rounded down)."""
        paid = booking.payment.amount if booking.payment is not None and booking.payment.status == "paid" else 0
        return paid * self.refund_percent // 100

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
    status: ev.BookingStatus
    requested_seats: list[str] | None
    requested_quantity: int | None
    seats: list[str]
    reason: str | None
    expires_at: datetime | None
    payment_reference: str | None
    created_at: datetime
    updated_at: datetime
    refused: ev.Refusal | None = None
    extensions: int = 0
    payment: Payment | None = None


@dataclass(slots=True, frozen=True)
class Checkin:
    """A ticket's admission: the first scan that found it valid (a row of `checkins`)."""

    show_id: str
    ticket_id: str
    booking_id: str
    seat: str
    gate: str
    checked_in_at: datetime
    command_id: str
    scanner_id: str


@dataclass
class Batch:
    """The state one transaction decides over, and what it changed."""

    shows: dict[str, ShowState]
    bookings: dict[str, BookingState]
    now: datetime
    # Shows whose creation was rejected before (loaded only for batches that reject a creation).
    rejected_shows: set[str] = field(default_factory=set)
    # The stored fair-start entries of shows whose draw may come in this batch (loaded only for those).
    entries: dict[str, list[RequestBooking]] = field(default_factory=dict)
    new_entries: list[RequestBooking] = field(default_factory=list)
    entry_ids: set[str] = field(default_factory=set)  # of those loaded and those new
    drawn_shows: list[str] = field(default_factory=list)
    waitlist_changed: set[tuple[str, str]] = field(default_factory=set)  # (show, customer) whose place changed
    # Shows whose every live booking is loaded (only for batches that cancel a show).
    live_loaded: set[str] = field(default_factory=set)
    # The admissions of the tickets this batch's scans name (ticket id -> its admission), loaded under the
    # show's row lock, and those it makes.
    checkins: dict[str, Checkin] = field(default_factory=dict)
    new_checkins: list[Checkin] = field(default_factory=list)
    new_shows: list[str] = field(default_factory=list)
    new_rejected_shows: list[str] = field(default_factory=list)
    new_bookings: list[str] = field(default_factory=list)
    updated_bookings: set[str] = field(default_factory=set)
    changed_shows: set[str] = field(default_factory=set)
    events: list[ev.Event] = field(default_factory=list)

    # ------------------------------------------------------------------ dispatch
    def decide(self, command: Command | Undecidable) -> None:
        _HANDLERS[type(command)](self, command)

    # ------------------------------------------------------------------ events
    def _next_version(self, show: ShowState | None) -> int:
        if show is None:
            return 0
        show.version += 1
        self.changed_shows.add(show.show_id)
        return show.version

    def _booking_event(
        self,
        kind: type[ev.BookingEvent],
        booking: BookingState,
        show: ShowState | None,
        waitlist_offer: bool = False,
        settle: Settlement | None = None,
    ) -> None:
        # A request too early is told when to come back (the opening is the show's; see _choose_seats).
        opens = show.sale_opens_at if show is not None and booking.reason == "sale_not_open" else None
        version = self._next_version(show)
        # The total is decided with the seats, from the layout they were claimed in: replays read it back.
        total, currency = (
            (show.layout.price_of(booking.seats), show.currency) if show and booking.seats else (None, None)
        )
        self.events.append(
            kind(
                # Deterministic: (show, version) is unique; version 0 only rejects a booking of an unknown show.
                event_id=f"{booking.show_id}/{version}" if version else f"{booking.booking_id}/rejected",
                show_id=booking.show_id,
                show_version=version,
                occurred_at=self.now,
                booking_id=booking.booking_id,
                customer_id=booking.customer_id,
                email=booking.email,
                phone=booking.phone,
                seats=booking.seats,
                status=booking.status,
                reason=booking.reason,
                expires_at=booking.expires_at,
                created_at=booking.created_at,
                updated_at=booking.updated_at,
                seats_available=show.seats_available if show is not None else None,
                refused=booking.refused,
                extensions=booking.extensions,
                total=total,
                currency=currency,
                waitlist_offer=waitlist_offer,
                sale_opens_at=opens,
                payment=booking.payment,
                settle=settle,
            )
        )

    def _changed(self, booking: BookingState) -> None:
        booking.updated_at = self.now
        if booking.booking_id not in self.new_bookings:
            self.updated_bookings.add(booking.booking_id)

    def _set_status(self, booking: BookingState, status: ev.BookingStatus, reason: str | None) -> None:
        booking.status = status
        booking.reason = reason
        self._changed(booking)

    def _refuse(self, booking: BookingState, show: ShowState, action: ev.Action, reason: str) -> None:
        """A confirm, cancel or extension that cannot be applied leaves its reason on the booking, never silence."""
        booking.refused = ev.Refusal(action=action, reason=reason, at=self.now)
        self._changed(booking)
        self._booking_event(ev.BookingActionRefused, booking, show)

    def _new_booking(
        self,
        booking_id: str,
        request_id: str,
        show_id: str,
        customer_id: str,
        email: str | None,
        phone: str | None,
        seats: list[str] | None,
        quantity: int | None,
    ) -> BookingState:
        booking = BookingState(
            booking_id=booking_id,
            request_id=request_id,
            show_id=show_id,
            customer_id=customer_id,
            email=email,
            phone=phone,
            status=REJECTED,
            requested_seats=seats,
            requested_quantity=quantity,
            seats=[],
            reason=None,
            expires_at=None,
            payment_reference=None,
            created_at=self.now,
            updated_at=self.now,
        )
        self.bookings[booking_id] = booking
        self.new_bookings.append(booking_id)
        return booking

    # ------------------------------------------------------------------ handlers
    def create_show(self, cmd: CreateShow) -> None:
        if cmd.show_id in self.shows:
            return  # redelivered or repeated: the show exists already
        layout = cmd.layout
        show = ShowState(
            show_id=cmd.show_id,
            title=cmd.title,
            venue=cmd.venue,
            starts_at=cmd.starts_at,
            hold_seconds=cmd.hold_seconds,
            layout=layout,
            version=0,
            created_at=self.now,
            seat_map=SeatMap(layout, {}),
            is_new=True,
            max_seats_per_customer=cmd.max_seats_per_customer,
            max_hold_extensions=cmd.max_hold_extensions,
            currency=cmd.currency,
            # Defaults: on sale from the creation until the start (commands of before have neither).
            sale_opens_at=cmd.sale_opens_at,
            sale_closes_at=cmd.sale_closes_at or cmd.starts_at,
            fair_start_window_s=cmd.fair_start_window_s,
            fair_start_seed=cmd.fair_start_seed or "",
            waitlist_offer_seconds=cmd.waitlist_offer_seconds,
            cancellable_until_hours=cmd.cancellable_until_hours,
            refund_percent=cmd.refund_percent,
        )
        self.shows[cmd.show_id] = show
        self.new_shows.append(cmd.show_id)
        if show.fair_start_window_s:
            self.entries[show.show_id] = []  # nothing stored yet: a draw may come in this very batch
        self.live_loaded.add(show.show_id)  # every booking of a new show is in this batch
        self._show_event(ev.ShowCreated, show)

    def _show_event(self, kind: type[ev.ShowCreated] | type[ev.ShowUpdated], show: ShowState, **extra: Any) -> None:
        """The show as it now is (ShowCreated, or ShowUpdated with `extra`: the previous start, a refusal)."""
        version = self._next_version(show)
        self.events.append(
            kind(
                event_id=f"{show.show_id}/{version}",
                show_id=show.show_id,
                show_version=version,
                occurred_at=self.now,
                title=show.title,
                venue=show.venue,
                starts_at=show.starts_at,
                hold_seconds=show.hold_seconds,
                sections=list(show.layout.sections),
                seats_total=show.seats_total,
                seats_available=show.seats_available,
                created_at=show.created_at,
                max_seats_per_customer=show.max_seats_per_customer,
                max_hold_extensions=show.max_hold_extensions,
                currency=show.currency,
                sale_opens_at=show.sale_opens_at or show.created_at,
                sale_closes_at=show.sale_closes_at,
                fair_start_window_s=show.fair_start_window_s,
                waitlist_offer_seconds=show.waitlist_offer_seconds,
                cancelled_at=show.cancelled_at,
                cancellable_until_hours=show.cancellable_until_hours,
                refund_percent=show.refund_percent,
                **extra,
            )
        )

    def request_booking(self, cmd: RequestBooking) -> None:
        if cmd.booking_id in self.bookings:
            return  # the same request decided before: a retry or a redelivery
        show = self.shows.get(cmd.show_id)
        # What counts is when the intake accepted the request, as for a confirm: a stalled pipeline or a
        # re-decision after a crash puts every request on the same side of the window.
        if show is not None and show.in_fair_start(cmd.issued_at):
            if cmd.issued_at < show.fair_start_ends_at:
                self._enter(show, cmd)
                return
            self._draw(show)  # the first request after the window: the window's requests go first
            if cmd.booking_id in self.bookings:
                return  # a later copy of a request the draw has just decided
        self._decide_request(show, cmd)

    def draw_fair_start(self, cmd: DrawFairStart) -> None:
        """The window is over by the sender's clock (the expiry worker's): draw, unless drawn already."""
        show = self.shows.get(cmd.show_id)
        if show is not None and show.awaits_draw and cmd.issued_at >= show.fair_start_ends_at:
            self._draw(show)

    def _enter(self, show: ShowState, cmd: RequestBooking) -> None:
        """Keep a request of the fair-start window for the draw (it stays RECEIVED until then)."""
        if cmd.booking_id in self.entry_ids:
            return  # redelivered while it waits (a copy stored before is kept once: see store.write_batch)
        self.entry_ids.add(cmd.booking_id)
        self.new_entries.append(cmd)
        if show.show_id in self.entries:
            self.entries[show.show_id].append(cmd)

    def _draw(self, show: ShowState) -> None:
        """Decide every entry of the window, in the drawn order, then first come, first served."""
        entries = self.entries.pop(show.show_id, None)
        if entries is None:
            raise AssertionError(f"show {show.show_id}: a draw in a batch that did not load its entries")
        show.fair_start_drawn = True
        self.drawn_shows.append(show.show_id)
        self.new_entries = [e for e in self.new_entries if e.show_id != show.show_id]
        for entry in fair_start_order(entries, show.fair_start_seed):
            if entry.booking_id not in self.bookings:
                self._decide_request(show, entry)

    def _decide_request(self, show: ShowState | None, cmd: RequestBooking) -> None:
        booking = self._new_booking(
            cmd.booking_id, cmd.request_id, cmd.show_id, cmd.customer_id, cmd.email, cmd.phone, cmd.seats, cmd.quantity
        )
        reason, seats = _choose_seats(show, cmd)
        if reason is not None or show is None:
            booking.reason = reason
            self._booking_event(ev.BookingRejected, booking, show)
            return
        self._claim(show, booking, seats)
        booking.status = PENDING
        booking.seats = seats
        booking.expires_at = self.now + timedelta(seconds=show.hold_seconds)
        self._booking_event(ev.BookingPending, booking, show)

    def confirm_booking(self, cmd: ConfirmBooking) -> None:
        booking, show = self._owned(cmd.booking_id, cmd.show_id, cmd.customer_id)
        if booking is None or show is None or booking.status == CONFIRMED:
            return  # unknown or not the owner's (nobody to tell), or confirmed already: what was asked
        if booking.status != PENDING:
            self._refuse(booking, show, "confirm", f"booking_{booking.status.lower()}")
            return
        assert booking.expires_at is not None
        # When the intake accepted the confirm counts, not when it is decided (API.md, booking lifecycle): a
        # confirm accepted in time is honoured after any stall of the pipeline. It cannot race the expiry
        # worker: that one's ExpireBooking is issued after the deadline, so it comes later in the show's order.
        if cmd.issued_at >= booking.expires_at:
            self._expire(booking, show)
            return
        show.seat_map.book(booking.seats, booking.booking_id)
        booking.payment_reference = cmd.payment_reference
        self._set_status(booking, CONFIRMED, None)
        self._booking_event(ev.BookingConfirmed, booking, show)

    def cancel_booking(self, cmd: CancelBooking) -> None:
        booking, show = self._owned(cmd.booking_id, cmd.show_id, cmd.customer_id)
        if booking is None or show is None or booking.status == CANCELLED:
            return
        if booking.status not in LIVE:
            self._refuse(booking, show, "cancel", f"booking_{booking.status.lower()}")
            return
        if booking.status == CONFIRMED:
            closed = show.cancellation_closes_at
            if closed is None or cmd.issued_at >= closed:
                self._refuse(booking, show, "cancel", "cancellation_closed")  # the show's terms
                return
            settle = self._refund(booking, show.refund_of(booking), "cancelled")
        else:
            settle = self._void_open_checkout(booking, "cancelled")
        self._release(show, booking)
        self._set_status(booking, CANCELLED, None)
        self._booking_event(ev.BookingCancelled, booking, show, settle=settle)
        self._offer_waitlist(show)

    def extend_booking(self, cmd: ExtendBooking) -> None:
        """Prolong a hold by the show's hold time, at most `max_hold_extensions` times, never past the sale's
        close. As for a confirm, what counts is when the intake accepted the extension."""
        booking, show = self._owned(cmd.booking_id, cmd.show_id, cmd.customer_id)
        if booking is None or show is None:
            return
        if booking.status != PENDING:
            self._refuse(booking, show, "extend", f"booking_{booking.status.lower()}")
            return
        assert booking.expires_at is not None
        if cmd.issued_at >= booking.expires_at:
            self._expire(booking, show)  # asked too late: the hold is over, as a late confirm finds it
            return
        if booking.extensions >= show.max_hold_extensions:
            self._refuse(booking, show, "extend", "extension_limit")
            return
        expires_at = min(booking.expires_at + timedelta(seconds=show.hold_seconds), show.sale_closes_at)
        if expires_at <= booking.expires_at:
            self._refuse(booking, show, "extend", "sale_closed")
            return
        booking.expires_at = expires_at
        booking.extensions += 1
        self._changed(booking)
        self._booking_event(ev.BookingHoldExtended, booking, show)

    def expire_booking(self, cmd: ExpireBooking) -> None:
        booking = self.bookings.get(cmd.booking_id)
        show = self.shows.get(cmd.show_id)
        if booking is None or show is None or booking.show_id != show.show_id or booking.status != PENDING:
            return  # late or repeated expiry: a no-op
        assert booking.expires_at is not None
        if self.now < booking.expires_at:
            return  # not due yet by the database clock; the expiry worker will ask again
        self._expire(booking, show)

    def undecidable(self, cmd: Undecidable) -> None:
        """Decide, as `invalid_request`, the request a dead-lettered command carried (see undecidable.py)."""
        booking: BookingState | None  # one name in both branches below
        if cmd.kind == "RequestBooking" and cmd.booking_id and cmd.customer_id:
            if cmd.booking_id in self.bookings:
                return  # decided already: its owner has an answer
            # The request id is not trusted (it may be what the database refused): one of our own.
            booking = self._new_booking(
                cmd.booking_id, f"invalid:{cmd.booking_id}", cmd.show_id, cmd.customer_id, None, None, None, None
            )
            booking.reason = INVALID_REQUEST
            self._booking_event(ev.BookingRejected, booking, self.shows.get(cmd.show_id))
        elif cmd.kind == "JoinWaitlist" and cmd.customer_id and cmd.show_id in self.shows:
            waiting = self.shows[cmd.show_id]
            if cmd.customer_id not in waiting.waitlist:  # waiting already: that place stands
                entry = WaitEntry(cmd.customer_id, waiting.waitlist_seq, 0, None, None, None, self.now)
                self._waitlist_event(waiting, entry, REFUSED, reason=INVALID_REQUEST)
        elif cmd.kind == "UpdateShow" and cmd.show_id in self.shows:
            self._show_updated(self.shows[cmd.show_id], refused=INVALID_REQUEST)
        elif cmd.kind in _REFUSABLE and cmd.booking_id and cmd.customer_id:
            booking, show = self._owned(cmd.booking_id, cmd.show_id, cmd.customer_id)
            if booking is not None and show is not None:
                self._refuse(booking, show, _REFUSABLE[cmd.kind], INVALID_REQUEST)
        elif cmd.kind == "CheckIn" and cmd.command_id:
            self._scan_answer(cmd.show_id, cmd.command_id, "", cmd.booking_id or "", "", "", ev.INVALID)
        elif cmd.kind == "CreateShow":
            if cmd.show_id in self.shows or cmd.show_id in self.rejected_shows:
                return
            self.rejected_shows.add(cmd.show_id)
            self.new_rejected_shows.append(cmd.show_id)
            self.events.append(
                ev.ShowRejected(
                    event_id=f"{cmd.show_id}/rejected",
                    show_id=cmd.show_id,
                    show_version=0,
                    occurred_at=self.now,
                    reason=INVALID_REQUEST,
                )
            )
        # An ExpireBooking needs no answer: the sweeper asks again while the hold is overdue.

    def _claim(self, show: ShowState, booking: BookingState, seats: list[str]) -> None:
        show.seat_map.claim(seats, booking.booking_id)
        show.live_seats[booking.customer_id] = show.live_seats.get(booking.customer_id, 0) + len(seats)

    def _release(self, show: ShowState, booking: BookingState) -> None:
        """Give a live booking's seats back (its status changes next)."""
        show.seat_map.release(booking.seats, booking.booking_id)
        left = show.live_seats.get(booking.customer_id, 0) - len(booking.seats)
        if left > 0:
            show.live_seats[booking.customer_id] = left
        else:
            show.live_seats.pop(booking.customer_id, None)

    def _expire(self, booking: BookingState, show: ShowState) -> None:
        self._release(show, booking)
        self._set_status(booking, EXPIRED, "hold_expired")
        self._booking_event(ev.BookingExpired, booking, show, settle=self._void_open_checkout(booking, "hold_expired"))
        self._offer_waitlist(show)

    # ------------------------------------------------------------------ payments
    def _void_open_checkout(self, booking: BookingState, reason: str) -> Settlement | None:
        """A hold that ends with its checkout still open has it voided (if it was paid meanwhile, the provider
        says so and the payment's notice is refunded: settle_payment)."""
        p = booking.payment
        if p is None or p.status != "open":
            return None
        booking.payment = msgspec.structs.replace(p, status="void_requested")
        return Settlement("void", p.provider, p.checkout_id, None, 0, p.currency, reason)

    def _refund(self, booking: BookingState, amount: int, reason: str) -> Settlement | None:
        """Ask the provider to give back `amount` of the booking's payment (nothing when nothing was paid)."""
        p = booking.payment
        if p is None or p.payment_id is None or p.status != "paid" or amount <= 0:
            return None
        booking.payment = msgspec.structs.replace(p, status="refund_requested", refund_amount=amount)
        return Settlement("refund", p.provider, p.checkout_id, p.payment_id, amount, p.currency, reason)

    def start_checkout(self, cmd: StartCheckout) -> None:
        booking, show = self._owned(cmd.booking_id, cmd.show_id, cmd.customer_id)
        if booking is None or show is None:
            return
        current = booking.payment
        if current is not None and current.checkout_id == cmd.checkout_id:
            return  # recorded already (a retry of the same checkout)
        void_new = Settlement("void", cmd.provider, cmd.checkout_id, None, 0, cmd.currency, "")
        if current is not None and current.status not in ("open", "void_requested"):
            # Paid (or being refunded) already: a second checkout is never recorded, and nobody may pay it.
            refused = msgspec.structs.replace(void_new, reason=f"payment_{current.status}")
            self._booking_event(ev.BookingPaymentUpdated, booking, show, settle=refused)
            return
        if booking.status != PENDING or booking.expires_at is None or cmd.issued_at >= booking.expires_at:
            # The hold ended before the checkout was recorded: nobody may pay for it.
            ended = msgspec.structs.replace(void_new, reason=f"booking_{booking.status.lower()}")
            self._booking_event(ev.BookingPaymentUpdated, booking, show, settle=ended)
            return
        total = show.layout.price_of(booking.seats)
        if cmd.amount != total or cmd.currency != show.currency:
            self._booking_event(
                ev.BookingPaymentUpdated,
                booking,
                show,
                settle=msgspec.structs.replace(void_new, reason="amount_mismatch"),
            )
            return
        settle = self._void_open_checkout(booking, "replaced")  # a newer checkout replaces an unpaid one
        booking.payment = Payment(cmd.provider, cmd.checkout_id, "open", cmd.amount, cmd.currency)
        self._changed(booking)
        self._booking_event(ev.BookingPaymentUpdated, booking, show, settle=settle)

    def settle_payment(self, cmd: SettlePayment) -> None:
        """Money was taken. It confirms the booking when the provider's notice was accepted by the intake before
        the hold ended and the amount is the booking's total; otherwise it is refunded, in full. A copy of the
        notice of the booking's own payment is a no-op; a copy of one it does not keep asks the same refund
        again (keyed by the payment, so the provider makes it once)."""
        booking, show = self.bookings.get(cmd.booking_id), self.shows.get(cmd.show_id)
        if booking is None or show is None or booking.show_id != show.show_id:
            return  # not a booking of ours (the webhook named it): nothing to confirm, nobody to tell
        p = booking.payment
        if p is not None and p.payment_id == cmd.payment_id:
            return  # this payment was settled already
        paid = Payment(cmd.provider, cmd.checkout_id, "paid", cmd.amount, cmd.currency, cmd.payment_id)
        mine = p is None or p.checkout_id == cmd.checkout_id or p.status in ("open", "void_requested")
        if booking.status == PENDING and mine:
            assert booking.expires_at is not None
            if cmd.issued_at >= booking.expires_at:
                self._expire(booking, show)  # paid too late: the seats are gone, the money goes back
            elif cmd.amount == show.layout.price_of(booking.seats) and cmd.currency == show.currency:
                show.seat_map.book(booking.seats, booking.booking_id)
                booking.payment = paid
                booking.payment_reference = cmd.payment_id
                self._set_status(booking, CONFIRMED, None)
                self._booking_event(ev.BookingConfirmed, booking, show)
                return
        reason = {PENDING: "amount_mismatch", CONFIRMED: "paid_twice"}.get(booking.status, "late_payment")
        if mine and booking.status != CONFIRMED:
            booking.payment = msgspec.structs.replace(paid, status="refund_requested", refund_amount=cmd.amount)
            self._changed(booking)
        # Keyed by the payment: a copy of this notice (a redelivery, a replay) asks the same refund again, which
        # the provider makes once.
        settle = Settlement(
            "refund", cmd.provider, cmd.checkout_id, cmd.payment_id, cmd.amount, cmd.currency, reason,
            key=f"refund-all/{cmd.payment_id}",
        )  # fmt: skip
        self._booking_event(ev.BookingPaymentUpdated, booking, show, settle=settle)

    def record_refund(self, cmd: RecordRefund) -> None:
        booking, show = self.bookings.get(cmd.booking_id), self.shows.get(cmd.show_id)
        if booking is None or show is None or booking.payment is None:
            return
        p = booking.payment
        if p.payment_id != cmd.payment_id or (p.status == "refunded" and p.refund_amount >= cmd.amount):
            return  # another payment's (a second one, refunded on its own) or recorded already
        booking.payment = msgspec.structs.replace(p, status="refunded", refund_amount=cmd.amount)
        self._changed(booking)
        self._booking_event(ev.BookingPaymentUpdated, booking, show)

    # ------------------------------------------------------------------ an admin's
    def close_sales(self, cmd: CloseSales) -> None:
        """No sale from now on: later requests are `sale_closed`; holds made before may still be confirmed
        until they end; nobody waits for offers that can no longer come."""
        show = self.shows.get(cmd.show_id)
        if show is None or show.cancelled_at is not None:
            return  # no show, or cancelled (everyone was answered then)
        if cmd.issued_at < show.sale_closes_at:
            show.sale_closes_at = cmd.issued_at
            self._show_updated(show)
        # Closed now, or closed on its own before (the expiry worker sends a CloseSales for a show whose sale
        # is over while people still wait): nobody waits for offers that can no longer come.
        self._answer_waitlist(show, "sale_closed")

    def cancel_show(self, cmd: CancelShow) -> None:
        show = self.shows.get(cmd.show_id)
        if show is None or show.cancelled_at is not None:
            return
        if show.show_id not in self.live_loaded:
            raise AssertionError(f"show {show.show_id}: cancelled in a batch that did not load its bookings")
        show.cancelled_at = cmd.issued_at
        show.sale_closes_at = min(show.sale_closes_at, cmd.issued_at)
        self._show_updated(show)
        if show.awaits_draw:
            self._draw(show)  # the fair start's waiting requests get their answer: show_cancelled
        live = sorted(
            (b for b in self.bookings.values() if b.show_id == show.show_id and b.status in LIVE),
            key=lambda b: b.booking_id,
        )
        for booking in live:
            # The show's cancellation gives everything back, whatever the terms of a customer's own.
            settle = self._refund(booking, booking.payment.amount if booking.payment else 0, "show_cancelled")
            settle = settle or self._void_open_checkout(booking, "show_cancelled")
            self._release(show, booking)
            self._set_status(booking, CANCELLED, "show_cancelled")
            self._booking_event(ev.BookingCancelled, booking, show, settle=settle)
        self._answer_waitlist(show, "show_cancelled")

    def _show_updated(
        self, show: ShowState, previous_starts_at: datetime | None = None, refused: str | None = None
    ) -> None:
        self._show_event(ev.ShowUpdated, show, previous_starts_at=previous_starts_at or show.starts_at, refused=refused)

    def update_show(self, cmd: UpdateShow) -> None:
        """Title and venue may change until the show is cancelled; the start only before the sale opens, to a
        time still ahead and after the opening. A change that cannot be made is answered (`refused`)."""
        show = self.shows.get(cmd.show_id)
        if show is None:
            return
        reason = _update_refusal(show, cmd)
        if reason is not None:
            self._show_updated(show, refused=reason)
            return
        previous = show.starts_at
        show.title = cmd.title if cmd.title is not None else show.title
        show.venue = cmd.venue if cmd.venue is not None else show.venue
        if cmd.starts_at is not None:
            if show.sale_closes_at == previous or show.sale_closes_at > cmd.starts_at:
                show.sale_closes_at = cmd.starts_at  # a close that followed the start follows it still
            show.starts_at = cmd.starts_at
        self._show_updated(show, previous_starts_at=previous)

    def _answer_waitlist(self, show: ShowState, reason: str) -> None:
        """Refuse every waiting place: no offer can come any more."""
        for entry in list(show.waitlist.values()):
            del show.waitlist[entry.customer_id]
            self.waitlist_changed.add((show.show_id, entry.customer_id))
            self._waitlist_event(show, entry, REFUSED, reason=reason)

    # ------------------------------------------------------------------ the waiting list
    def join_waitlist(self, cmd: JoinWaitlist) -> None:
        show = self.shows.get(cmd.show_id)
        if show is None or cmd.customer_id in show.waitlist:
            return  # no show (the intake refuses those: 404), or waiting already: what was asked
        entry = WaitEntry(cmd.customer_id, show.waitlist_seq, cmd.quantity, cmd.section, cmd.email, cmd.phone, self.now)
        reason = _waitlist_refusal(show, cmd)
        if reason is not None:
            self._waitlist_event(show, entry, REFUSED, reason=reason)
            return
        show.waitlist_seq += 1
        show.waitlist[cmd.customer_id] = entry
        self.waitlist_changed.add((show.show_id, cmd.customer_id))
        self._waitlist_event(show, entry, WAITING)
        self._offer_waitlist(show)  # seats the ones ahead cannot use may fit this one

    def leave_waitlist(self, cmd: LeaveWaitlist) -> None:
        show = self.shows.get(cmd.show_id)
        entry = show.waitlist.pop(cmd.customer_id, None) if show is not None else None
        if show is None or entry is None:
            return  # not waiting (left already, or offered: their hold is a booking to cancel)
        self.waitlist_changed.add((show.show_id, cmd.customer_id))
        self._waitlist_event(show, entry, LEFT)

    def _offer_waitlist(self, show: ShowState) -> None:
        """Offer free seats to the waiting list in join order: each waiting customer whose request the free
        seats can meet gets them held (PENDING, `waitlist_offer_seconds`); one they cannot meet keeps its
        place for later releases. Decided in the show's order, so exact and reproducible."""
        if not show.waitlist or self.now >= show.sale_closes_at or show.cancelled_at is not None:
            return
        for entry in list(show.waitlist.values()):
            if show.seat_map.available == 0:
                return
            customer = entry.customer_id
            if show.live_seats.get(customer, 0) + entry.quantity > show.max_seats_per_customer:
                del show.waitlist[customer]  # booked meanwhile: the offer would go beyond their limit
                self.waitlist_changed.add((show.show_id, customer))
                self._waitlist_event(show, entry, REFUSED, reason="customer_limit")
                continue
            sections = show.layout.sections_for(entry.section, None) if entry.section else None
            seats = show.seat_map.best_available(entry.quantity, sections)
            if seats is None:
                continue
            del show.waitlist[customer]
            self.waitlist_changed.add((show.show_id, customer))
            key = hashlib.sha256(f"waitlist\n{show.show_id}\n{entry.seq}".encode()).hexdigest()
            booking = self._new_booking(
                "bk_" + key[:26], "wl:" + key, show.show_id, customer, entry.email, entry.phone, None, entry.quantity
            )
            self._claim(show, booking, seats)
            booking.status = PENDING
            booking.seats = seats
            booking.expires_at = min(self.now + timedelta(seconds=show.waitlist_offer_seconds), show.sale_closes_at)
            self._waitlist_event(show, entry, OFFERED, booking_id=booking.booking_id)
            self._booking_event(ev.BookingPending, booking, show, waitlist_offer=True)

    def _waitlist_event(
        self,
        show: ShowState,
        entry: WaitEntry,
        status: ev.WaitlistStatus,
        reason: str | None = None,
        booking_id: str | None = None,
    ) -> None:
        version = self._next_version(show)
        self.events.append(
            ev.WaitlistChanged(
                event_id=f"{show.show_id}/{version}",
                show_id=show.show_id,
                show_version=version,
                occurred_at=self.now,
                customer_id=entry.customer_id,
                status=status,
                quantity=entry.quantity,
                section=entry.section,
                seq=entry.seq,
                reason=reason,
                booking_id=booking_id,
                joined_at=entry.joined_at,
                updated_at=self.now,
                seats_available=show.seats_available,
                email=entry.email,
                phone=entry.phone,
            )
        )

    # ------------------------------------------------------------------ the door
    def check_in(self, cmd: CheckIn) -> None:
        """One scan, one answer. The show's commands are decided one after the other, so of any number of
        concurrent scans of a ticket exactly one finds it unused."""
        show = self.shows.get(cmd.show_id)
        booking = self.bookings.get(cmd.booking_id)
        first = self.checkins.get(cmd.ticket_id)
        admits = False  # this decision makes the admission
        if (
            show is None
            or booking is None
            or booking.show_id != show.show_id
            or cmd.seat not in booking.seats
            or cmd.ticket_id != ticket_id(cmd.booking_id, cmd.seat)
        ):
            result: ev.CheckinResult = ev.INVALID  # signed, yet no such ticket here: never admit it
        elif first is not None:
            # A copy of the admitting scan itself (a redelivered command) gets the same answer.
            result = ev.ADMITTED if first.command_id == cmd.command_id else ev.ALREADY_USED
        elif booking.status != CONFIRMED:
            result = ev.REVOKED  # cancelled, expired, or never paid for
        else:
            result = ev.ADMITTED
            first = Checkin(
                cmd.show_id, cmd.ticket_id, cmd.booking_id, cmd.seat, cmd.gate, self.now, cmd.command_id, cmd.scanner_id
            )
            self.checkins[cmd.ticket_id] = first
            self.new_checkins.append(first)
            admits = True
        status = booking.status if booking is not None and result != ev.INVALID else None
        self._scan_answer(
            cmd.show_id, cmd.command_id, cmd.ticket_id, cmd.booking_id, cmd.seat, cmd.gate, result, first, status,
            admits,
        )  # fmt: skip

    def _scan_answer(
        self,
        show_id: str,
        checkin_id: str,
        ticket_id: str,
        booking_id: str,
        seat: str,
        gate: str,
        result: ev.CheckinResult,
        admission: Checkin | None = None,
        status: ev.BookingStatus | None = None,
        admits: bool = False,
    ) -> None:
        show = self.shows.get(show_id)
        version = self._next_version(show)
        self.events.append(
            ev.TicketCheckedIn(
                event_id=f"{show_id}/{version}" if version else f"{checkin_id}/checkin",
                show_id=show_id,
                show_version=version,
                occurred_at=self.now,
                checkin_id=checkin_id,
                ticket_id=ticket_id,
                booking_id=booking_id,
                seat=seat,
                gate=gate,
                result=result,
                scanned_at=self.now,
                checked_in_at=admission.checked_in_at if admission is not None else None,
                checked_in_gate=admission.gate if admission is not None else None,
                booking_status=status,
                seats_available=show.seats_available if show is not None else 0,
                admits=admits,
            )
        )

    def _owned(self, booking_id: str, show_id: str, customer_id: str) -> tuple[BookingState | None, ShowState | None]:
        booking = self.bookings.get(booking_id)
        if booking is None or booking.show_id != show_id or booking.customer_id != customer_id:
            return None, None
        return booking, self.shows.get(show_id)


_REFUSABLE: dict[str, ev.Action] = {"ConfirmBooking": "confirm", "CancelBooking": "cancel", "ExtendBooking": "extend"}


def _choose_seats(show: ShowState | None, cmd: RequestBooking) -> tuple[str | None, list[str]]:
    """(rejection reason, seats); the reason is None when the seats can be held. The command's shape
    (1..10 distinct seat ids, or a quantity 1..10 with an optional section or price) is guaranteed by its
    type. The order of the checks is the order of the reasons: the show, its sale, the request's own
    sense, the customer's limit, then what is left."""
    if show is None:
        return "show_not_found", []
    if show.cancelled_at is not None:
        return "show_cancelled", []
    if cmd.issued_at >= show.sale_closes_at:
        return "sale_closed", []  # first: a sale closed before it opened will not open
    if show.sale_opens_at is not None and cmd.issued_at < show.sale_opens_at:
        return "sale_not_open", []
    seat_map = show.seat_map
    wanted = len(cmd.seats) if cmd.seats is not None else cmd.quantity
    assert wanted is not None
    sections = None
    if cmd.seats is not None:
        if not all(show.layout.contains(s) for s in cmd.seats):
            return "invalid_seat", []
    elif cmd.section is not None or cmd.price_cents is not None:
        sections = show.layout.sections_for(cmd.section, cmd.price_cents)
        if not sections:
            return "invalid_seat", []  # the intake refuses these (422); a hand-written command gets here
    if show.live_seats.get(cmd.customer_id, 0) + wanted > show.max_seats_per_customer:
        return "customer_limit", []
    if cmd.seats is not None:
        if seat_map.available == 0:
            return "sold_out", []
        if not all(seat_map.is_free(s) for s in cmd.seats):
            return "seat_unavailable", []
        return None, list(cmd.seats)
    chosen = seat_map.best_available(wanted, sections)
    if chosen is None:
        return "sold_out", []
    return None, chosen


def _update_refusal(show: ShowState, cmd: UpdateShow) -> str | None:
    if show.cancelled_at is not None:
        return "show_cancelled"
    if cmd.starts_at is None:
        return None
    if show.sale_opens_at is None or cmd.issued_at >= show.sale_opens_at:
        return "sale_open"  # people may hold tickets for the time they bought
    if cmd.starts_at <= cmd.issued_at or cmd.starts_at <= show.sale_opens_at:
        return "invalid_start"
    return None


def _waitlist_refusal(show: ShowState, cmd: JoinWaitlist) -> str | None:
    """Why a customer cannot join the waiting list (None: they can). As for a request: the sale, the request's
    sense, the customer's limit; and only when the seats asked for are not free (with nobody waiting)."""
    if show.cancelled_at is not None:
        return "show_cancelled"
    if cmd.issued_at >= show.sale_closes_at:
        return "sale_closed"
    if show.sale_opens_at is not None and cmd.issued_at < show.sale_opens_at:
        return "sale_not_open"
    sections = show.layout.sections_for(cmd.section, None) if cmd.section is not None else None
    if sections is not None and not sections:
        return "invalid_seat"
    if show.live_seats.get(cmd.customer_id, 0) + cmd.quantity > show.max_seats_per_customer:
        return "customer_limit"
    if not show.waitlist and show.seat_map.free_in(sections) >= cmd.quantity:
        return "seats_available"  # book them instead
    return None


def fair_start_order(entries: Iterable[RequestBooking], seed: str) -> list[RequestBooking]:
    """The order a fair start decides its window's requests in: a pure function of the requests and the
    show's secret seed, so a re-decision after a crash draws the same. Rounds first: every customer's first
    request (by acceptance) before anyone's second, so sending many buys nothing; within a round by a keyed
    hash of the booking id, which neither arriving first nor choosing the idempotency key can steer (the
    seed is never shown)."""
    unique = {e.booking_id: e for e in entries}
    taken: dict[str, int] = {}
    round_of: dict[str, int] = {}
    for entry in sorted(unique.values(), key=lambda e: (e.issued_at, e.booking_id)):
        round_of[entry.booking_id] = taken.get(entry.customer_id, 0)
        taken[entry.customer_id] = round_of[entry.booking_id] + 1

    def key(entry: RequestBooking) -> tuple[int, bytes]:
        return round_of[entry.booking_id], hashlib.sha256(f"{seed}\n{entry.booking_id}".encode()).digest()

    return sorted(unique.values(), key=key)


_HANDLERS: dict[type, Callable[[Batch, Any], None]] = {
    CreateShow: Batch.create_show,
    RequestBooking: Batch.request_booking,
    ConfirmBooking: Batch.confirm_booking,
    CancelBooking: Batch.cancel_booking,
    ExtendBooking: Batch.extend_booking,
    ExpireBooking: Batch.expire_booking,
    DrawFairStart: Batch.draw_fair_start,
    JoinWaitlist: Batch.join_waitlist,
    LeaveWaitlist: Batch.leave_waitlist,
    UpdateShow: Batch.update_show,
    CloseSales: Batch.close_sales,
    CancelShow: Batch.cancel_show,
    CheckIn: Batch.check_in,
    StartCheckout: Batch.start_checkout,
    SettlePayment: Batch.settle_payment,
    RecordRefund: Batch.record_refund,
    Undecidable: Batch.undecidable,
}
