"""Events on `booking.events` (key = show id), typed. `show_version` is 1 for ShowCreated and grows by
exactly 1 with every later event of the show; 0 marks a decision about something that has no show to
version (a booking for an unknown show, a show creation that was refused).

Events are written only by the processor, read by projections, the notifier and replays. Decoding
tolerates fields it does not know (an older consumer reading a newer event), nothing else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

import msgspec

from schemas.fields import (
    DEFAULT_MAX_HOLD_EXTENSIONS,
    DEFAULT_MAX_SEATS_PER_CUSTOMER,
    DEFAULT_WAITLIST_OFFER_SECONDS,
    Count,
    ShowVersion,
)
from schemas.layout import Section
from schemas.money import DEFAULT_CURRENCY
from schemas.payments import Payment, Settlement
from schemas.validation import decode

# Final: each is its own Literal type, so a status set from one of them is a BookingStatus.
PENDING: Final = "PENDING"
REJECTED: Final = "REJECTED"
CONFIRMED: Final = "CONFIRMED"
EXPIRED: Final = "EXPIRED"
CANCELLED: Final = "CANCELLED"
RECEIVED: Final = "RECEIVED"
BookingStatus = Literal["RECEIVED", "PENDING", "REJECTED", "CONFIRMED", "EXPIRED", "CANCELLED"]
# A place on a show's waiting list: WAITING (in line), then OFFERED (seats held for them: a PENDING booking),
# LEFT (they left), or REFUSED (the join could not be taken, `reason` says why). RECEIVED: accepted, not decided.
WAITING: Final = "WAITING"
OFFERED: Final = "OFFERED"
LEFT: Final = "LEFT"
REFUSED: Final = "REFUSED"
WaitlistStatus = Literal["RECEIVED", "WAITING", "OFFERED", "LEFT", "REFUSED"]
Action = Literal["confirm", "cancel", "extend"]


class Refusal(msgspec.Struct, frozen=True):
    """The last confirm, cancel or extension of a booking that could not be applied, and why."""

    action: Action
    reason: str
    at: datetime


# Each event repeats `frozen=True`: msgspec inherits it from the base, mypy's dataclass_transform does not.
class _Event(msgspec.Struct, frozen=True, tag_field="type", kw_only=True):
    event_id: str
    show_id: str
    show_version: ShowVersion
    occurred_at: datetime

    @property
    def type(self) -> str:
        return self.__struct_config__.tag  # type: ignore[return-value]


class _ShowDetails(_Event, frozen=True):
    """A show as it is after the event: what ShowCreated said, and every later ShowUpdated."""

    title: str
    venue: str
    starts_at: datetime
    hold_seconds: int
    sections: list[Section]
    seats_total: Count
    seats_available: Count
    created_at: datetime
    # Defaults: events written before these rules existed decode as shows with the defaults.
    max_seats_per_customer: int = DEFAULT_MAX_SEATS_PER_CUSTOMER
    max_hold_extensions: int = DEFAULT_MAX_HOLD_EXTENSIONS
    currency: str = DEFAULT_CURRENCY
    # The sale (None in events written before sale windows: from creation until the start, no fair start).
    sale_opens_at: datetime | None = None
    sale_closes_at: datetime | None = None
    fair_start_window_s: int = 0
    waitlist_offer_seconds: int = DEFAULT_WAITLIST_OFFER_SECONDS
    cancelled_at: datetime | None = None
    cancellable_until_hours: int | None = 0
    refund_percent: int = 100


class ShowCreated(_ShowDetails, tag="ShowCreated", frozen=True):
    pass


class ShowUpdated(_ShowDetails, tag="ShowUpdated", frozen=True):
    """An admin changed the show (its title, venue or start; its sale closed; it was cancelled), or asked for a
    change that could not be made: then `refused` says why and the show is as it was. The whole show as it now
    is; `previous_starts_at` is the start before (the listing is ordered by start)."""

    previous_starts_at: datetime | None = None
    refused: str | None = None


class ShowRejected(_Event, tag="ShowRejected", frozen=True):
    """A CreateShow that could not be decided (dead-lettered); show_version 0."""

    reason: str


class _BookingEvent(_Event, kw_only=True, frozen=True):
    booking_id: str
    customer_id: str
    email: str | None = None
    phone: str | None = None
    seats: list[str]
    status: BookingStatus
    reason: str | None = None
    expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    # Free seats of the show after this event (None when there is no show: show_version 0).
    seats_available: Count | None = None
    refused: Refusal | None = None
    # How many times the hold was extended (0 in events written before extensions existed).
    extensions: Count = 0
    # Once seats are assigned: the sum of their section prices (minor units of `currency`), decided with the
    # seats so that every reader (read models, a replay, the notifier) shows the same total. None: no seats,
    # or an event written before totals existed.
    total: Count | None = None
    currency: str | None = None
    # A hold made for someone on the waiting list when seats were released (their offer), not by a request.
    waitlist_offer: bool = False
    # A rejection `sale_not_open`: when the sale opens (None otherwise, and in events written before).
    sale_opens_at: datetime | None = None
    # The booking's payment (None: no checkout yet, or events written before payments), and what the
    # provider must do because of this event (void a checkout, refund a payment), once.
    payment: Payment | None = None
    settle: Settlement | None = None


class BookingPending(_BookingEvent, tag="BookingPending", frozen=True):
    pass


class BookingRejected(_BookingEvent, tag="BookingRejected", frozen=True):
    pass


class BookingConfirmed(_BookingEvent, tag="BookingConfirmed", frozen=True):
    pass


class BookingExpired(_BookingEvent, tag="BookingExpired", frozen=True):
    pass


class BookingCancelled(_BookingEvent, tag="BookingCancelled", frozen=True):
    pass


class BookingActionRefused(_BookingEvent, tag="BookingActionRefused", frozen=True):
    """A confirm, cancel or extension that could not be applied: the booking is unchanged but for `refused`."""


class BookingHoldExtended(_BookingEvent, tag="BookingHoldExtended", frozen=True):
    """A PENDING hold prolonged: a later `expires_at`, one more extension; the seats stay held."""


class BookingPaymentUpdated(_BookingEvent, tag="BookingPaymentUpdated", frozen=True):
    """The booking's payment changed and nothing else did: a checkout opened, a refund asked (money that came
    for seats the booking no longer holds) or done."""


BookingEvent = (
    BookingPaymentUpdated
    | BookingPending
    | BookingRejected
    | BookingConfirmed
    | BookingExpired
    | BookingCancelled
    | BookingActionRefused
    | BookingHoldExtended
)


class WaitlistChanged(_Event, tag="WaitlistChanged", frozen=True, kw_only=True):
    """A customer's place on the show's waiting list: joined (WAITING, `seq` orders the line), left, refused
    (`reason`), or OFFERED: seats held for them as booking `booking_id` (its BookingPending follows)."""

    customer_id: str
    status: WaitlistStatus
    quantity: Count
    section: str | None = None
    seq: int
    reason: str | None = None
    booking_id: str | None = None
    joined_at: datetime | None = None
    updated_at: datetime
    seats_available: Count
    email: str | None = None
    phone: str | None = None


ADMITTED: Final = "admitted"
ALREADY_USED: Final = "already_used"
REVOKED: Final = "revoked"
INVALID: Final = "invalid"
CheckinResult = Literal["admitted", "already_used", "revoked", "invalid"]


class TicketCheckedIn(_Event, tag="TicketCheckedIn", frozen=True, kw_only=True):
    """The answer to one scan (`checkin_id`: its command): `admitted` (the first scan of a ticket of a
    CONFIRMED booking), `already_used` (`checked_in_at`/`checked_in_gate`: the admission's), `revoked` (the
    booking is not CONFIRMED: cancelled, expired), `invalid` (no such seat in such a booking of the show).
    show_version 0 when the show does not exist."""

    checkin_id: str
    ticket_id: str
    booking_id: str
    seat: str
    gate: str
    result: CheckinResult
    scanned_at: datetime
    checked_in_at: datetime | None = None
    checked_in_gate: str | None = None
    booking_status: BookingStatus | None = None
    seats_available: Count = 0
    admits: bool = False  # this decision made the admission (a copy of the admitting scan does not): the count


Event = ShowCreated | ShowUpdated | ShowRejected | BookingEvent | WaitlistChanged | TicketCheckedIn

_decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(Event)
_encoder = msgspec.json.Encoder()


def decode_event(raw: bytes) -> Event:
    return decode(raw, _decoder)


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)


def event_from_dict(value: dict[str, Any]) -> Event:
    """An event given as plain data (times as RFC 3339 text), validated: for tests and benchmarks."""
    event: Event = msgspec.convert(value, Event, strict=False)
    return event
