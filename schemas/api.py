"""Bodies of the public HTTP API (shared/API.md): what clients send, validated with the same field types
as the commands they become, and what they get back. `intake.openapi` generates the document from these.

`json_schema_extra` on a record states, for the OpenAPI document, a rule its `__post_init__` enforces.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, UnsetType

from schemas.commands import check_sale_window, check_seat_choice
from schemas.events import BookingStatus, CheckinResult, Refusal, WaitlistStatus
from schemas.fields import (
    DEFAULT_MAX_HOLD_EXTENSIONS,
    DEFAULT_MAX_SEATS_PER_CUSTOMER,
    DEFAULT_WAITLIST_OFFER_SECONDS,
    CancellableUntilHours,
    Count,
    CustomerId,
    Email,
    FairStartWindow,
    Gate,
    HoldSeconds,
    MaxHoldExtensions,
    MaxSeatsPerCustomer,
    PriceCents,
    Quantity,
    RefundPercent,
    SeatList,
    SectionName,
    ShowText,
    ShowVersion,
    Text200,
    Time,
    WaitlistOfferSeconds,
    normalise_text,
    normalise_times,
)
from schemas.layout import Section, Sections, check_sections
from schemas.money import DEFAULT_CURRENCY, Currency
from schemas.payments import Payment

_strict = {"frozen": True, "forbid_unknown_fields": True}


# ---------------------------------------------------------------- requests
class CreateShowBody(msgspec.Struct, **_strict):
    """A show and its seat layout. Rules JSON Schema cannot state (422 when broken): section names are
    unique, and the sections hold at most 100,000 seats in all; a section's `focus` lies within it;
    `starts_at` is in the future, within years 1..9999 in UTC. `max_seats_per_customer`: live (held or
    confirmed) seats one customer may have of the show; `max_hold_extensions`: how often one hold may be
    extended (each by `hold_seconds`, never past the sale's close). `currency`: ISO 4217 code of the show's
    prices (`price_cents` are in its minor units: cents, or yen for JPY). The sale runs from `sale_opens_at`
    (default: its creation) until `sale_closes_at` (default and latest: `starts_at`; the opening is before
    the close). With `sale_opens_at`, requests accepted within `fair_start_window_s` seconds of the opening
    (default 0: none) are decided together when that window ends, in a random order drawn per show, each
    customer's first request before anyone's second. `waitlist_offer_seconds`: how long seats offered to
    someone on the waiting list are held for them. The cancellation terms: a CONFIRMED booking may be cancelled
    by its customer until `cancellable_until_hours` before the start (default 0: until the start; null: never),
    and `refund_percent` (default 100) of what was paid is refunded through the payment provider."""

    title: ShowText
    venue: ShowText
    starts_at: Time
    sections: Sections
    hold_seconds: HoldSeconds = 120
    max_seats_per_customer: MaxSeatsPerCustomer = DEFAULT_MAX_SEATS_PER_CUSTOMER
    max_hold_extensions: MaxHoldExtensions = DEFAULT_MAX_HOLD_EXTENSIONS
    currency: Currency = DEFAULT_CURRENCY
    sale_opens_at: Time | None = None
    sale_closes_at: Time | None = None
    fair_start_window_s: FairStartWindow = 0
    waitlist_offer_seconds: WaitlistOfferSeconds = DEFAULT_WAITLIST_OFFER_SECONDS
    cancellable_until_hours: CancellableUntilHours | None = 0
    refund_percent: RefundPercent = 100

    def __post_init__(self) -> None:
        normalise_text(self, "title", "venue")
        normalise_times(self, "starts_at", "sale_opens_at", "sale_closes_at")
        check_sections(self.sections)
        check_sale_window(self.starts_at, self.sale_opens_at, self.sale_closes_at, self.fair_start_window_s)


class UpdateShowBody(msgspec.Struct, **_strict):
    """At least one of `title`, `venue` (any time until the show is cancelled) and `starts_at` (only before the
    sale opens, to a time ahead and after the opening; a close that followed the start follows it)."""

    json_schema_extra: ClassVar[dict[str, Any]] = {"minProperties": 1}
    title: ShowText | UnsetType = UNSET
    venue: ShowText | UnsetType = UNSET
    starts_at: Time | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.title is UNSET and self.venue is UNSET and self.starts_at is UNSET:
            raise ValueError("give at least one of title, venue, starts_at")
        for name in ("title", "venue"):
            if getattr(self, name) is not UNSET:
                normalise_text(self, name)
        if self.starts_at is not UNSET:
            normalise_times(self, "starts_at")

    def value(self, name: str) -> Any:
        found = getattr(self, name)
        return None if found is UNSET else found


class BookingBody(msgspec.Struct, **_strict):
    """Exactly one of `seats` (1..10 distinct seat ids of the show's layout) or `quantity` (best available:
    adjacent seats in one row, as close to the section's best point as they can be, leaving no single seat
    alone when that can be avoided; same row when no row has them side by side). With `quantity`, optionally
    `section` (take them from that section) and/or `price_cents` (from the sections at that price); without,
    sections are taken in the layout's order. Seat ids outside the show's layout, and a section or price the
    layout does not have, are refused with 422."""

    json_schema_extra: ClassVar[dict[str, Any]] = {
        "oneOf": [
            {"required": ["seats"], "not": {"anyOf": [{"required": ["section"]}, {"required": ["price_cents"]}]}},
            {"required": ["quantity"]},
        ]
    }
    seats: SeatList | UnsetType = UNSET
    quantity: Quantity | UnsetType = UNSET
    section: SectionName | UnsetType = UNSET
    price_cents: PriceCents | UnsetType = UNSET

    def __post_init__(self) -> None:
        check_seat_choice(self.seat_list, self.quantity_or_none, self.section_or_none, self.price_or_none)

    @property
    def seat_list(self) -> list[str] | None:
        return None if self.seats is UNSET else self.seats

    @property
    def quantity_or_none(self) -> int | None:
        return None if self.quantity is UNSET else self.quantity

    @property
    def section_or_none(self) -> str | None:
        return None if self.section is UNSET else self.section

    @property
    def price_or_none(self) -> int | None:
        return None if self.price_cents is UNSET else self.price_cents


class ConfirmBody(msgspec.Struct, **_strict):
    payment_reference: Text200


class ProviderEventBody(msgspec.Struct, frozen=True):
    """A payment provider's webhook event (Stripe's shape: `id`, `type`, `data.object`); other fields are the
    provider's and pass unread. Trusted only once its signature header verifies."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    data: dict[str, Any]


class CheckinBody(msgspec.Struct, **_strict):
    """A ticket code as its QR code holds it (`BX1.…`), and the gate scanning it."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
    gate: Gate = "main"


class CancelBody(msgspec.Struct, **_strict):
    """No fields; the body may be omitted."""


class ExtendBody(msgspec.Struct, **_strict):
    """No fields; the body may be omitted."""


class WaitlistBody(msgspec.Struct, **_strict):
    """Wait for `quantity` seats (1..10), of `section` if given (a section of the layout, else 422)."""

    quantity: Quantity
    section: SectionName | UnsetType = UNSET

    @property
    def section_or_none(self) -> str | None:
        return None if self.section is UNSET else self.section


class DevTokenBody(msgspec.Struct, **_strict):
    """Development sign-in never grants admin (`boxoffice token --role admin` does, on the local stack)."""

    sub: CustomerId
    role: Literal["customer"] = "customer"
    email: Email | UnsetType = UNSET


# ---------------------------------------------------------------- responses
class ShowView(msgspec.Struct, frozen=True):
    show_id: str
    title: str
    venue: str
    starts_at: datetime
    hold_seconds: int
    sections: list[Section]
    seats_total: Count
    seats_available: Count
    max_seats_per_customer: int = DEFAULT_MAX_SEATS_PER_CUSTOMER
    max_hold_extensions: int = DEFAULT_MAX_HOLD_EXTENSIONS
    # Responses carry the code as text: a code added to the allow-list later still reads everywhere.
    currency: str = DEFAULT_CURRENCY
    # When the sale opens and closes (null only for shows created before sale windows: from their creation
    # until `starts_at`), and the fair start's window after the opening (0: none).
    sale_opens_at: datetime | None = None
    sale_closes_at: datetime | None = None
    fair_start_window_s: int = 0
    waitlist_offer_seconds: int = DEFAULT_WAITLIST_OFFER_SECONDS
    # Of the seats not available, how many are held (PENDING: they may come back), and when the first of
    # those holds ends (null when none is held). Sold out: seats_available 0 and seats_held 0.
    seats_held: Count = 0
    next_hold_ends_at: datetime | None = None
    # When an admin cancelled the show (null: it is not cancelled); nothing of it is sold any more.
    cancelled_at: datetime | None = None
    # Why the last change an admin asked for (PATCH) could not be made; null when it was, or none was asked.
    update_refused: str | None = None
    # The cancellation terms: a CONFIRMED booking may be cancelled until this many hours before the start (null:
    # never), and this share of what was paid is refunded.
    cancellable_until_hours: int | None = 0
    refund_percent: int = 100


class SectionSales(msgspec.Struct, frozen=True):
    """One section of a show as an admin sees it: `sold` seats are confirmed, `held` are PENDING; `revenue` is
    the sold seats' prices (minor units of the show's currency)."""

    name: str
    seats_total: Count
    available: Count
    held: Count
    sold: Count
    revenue: Count
    checked_in: Count = 0  # tickets admitted at the door (POST /v1/checkins)


class AdminShowView(msgspec.Struct, frozen=True):
    show: ShowView
    sections: list[SectionSales]
    sold: Count
    revenue: Count
    checked_in: Count = 0  # tickets admitted at the door (POST /v1/checkins)


class AdminShowList(msgspec.Struct, frozen=True, omit_defaults=True):
    shows: list[AdminShowView]
    next_cursor: str | None = None


class ShowList(msgspec.Struct, frozen=True, omit_defaults=True):
    shows: list[ShowView]
    next_cursor: str | None = None


class ShowAccepted(msgspec.Struct, frozen=True):
    show_id: str


class SeatMapView(msgspec.Struct, frozen=True):
    """Every seat not listed as held or booked is available; `version` is the show_version of the last
    event applied."""

    show_id: str
    version: ShowVersion
    seats_total: Count
    seats_available: Count
    held: list[str]
    booked: list[str]


class SeatChange(msgspec.Struct, frozen=True):
    seat_id: str
    state: Literal["available", "held", "booked"]


class ShowChange(msgspec.Struct, frozen=True):
    """Data of a seat-map stream's `change` event: one applied change of the show (id = version)."""

    show_id: str
    version: ShowVersion
    seats_available: Count
    changes: list[SeatChange]


class StreamMark(msgspec.Struct, frozen=True):
    """Data of a seat-map stream's `heartbeat` (the show's current version) and `reset` (refetch the map:
    the changes asked for are no longer kept; this is the version to go on from)."""

    version: ShowVersion


class BookingView(msgspec.Struct, frozen=True, omit_defaults=True):
    booking_id: str
    show_id: str
    customer_id: str
    status: BookingStatus
    seats: list[str]
    reason: str | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    refused: Refusal | None = None
    # Times the hold was extended (absent: 0).
    extensions: Count = 0
    # Only while RECEIVED: commands of its partition still ahead of it, and the wait that suggests.
    queue_position: Count | None = None
    estimated_wait_s: float | None = None
    # Once seats are assigned (absent while RECEIVED, and when no seat was): the sum of the seats' section
    # prices, in minor units of `currency`, the show's.
    total: Count | None = None
    currency: str | None = None
    # Only when REJECTED `sale_not_open`: when the show's sale opens (come back then).
    sale_opens_at: datetime | None = None
    # Once a checkout opened (POST /v1/bookings/{id}/checkout): its payment, as the provider reported it.
    payment: Payment | None = None


class CheckoutView(msgspec.Struct, frozen=True):
    """A hosted checkout for a PENDING booking's total: send the buyer to `url`. The booking is confirmed when
    the provider's signed webhook says it was paid before the hold ends (`expires_at`)."""

    booking_id: str
    checkout_id: str
    url: str
    provider: str
    amount: Count
    currency: str
    expires_at: datetime


class WebhookReceived(msgspec.Struct, frozen=True):
    received: bool
    handled: bool  # False: an event type boxoffice does not act on (nothing was queued)


class CheckinView(msgspec.Struct, frozen=True, omit_defaults=True):
    """The answer to one scan. `admitted`: let them in. `already_used`: `checked_in_at` and `checked_in_gate` say
    when and where the ticket was admitted. `revoked`: the booking is no longer CONFIRMED (`booking_status`).
    `invalid`: not a ticket of ours (`reason`: what is wrong with the code), or of no seat of such a booking.
    `status` RECEIVED: queued but not decided within the wait (no `result` yet); `GET /v1/checkins/{checkin_id}`
    follows it. A code refused at the door (malformed, forged, no such show) is never queued nor kept: its
    answer has no `checkin_id`."""

    status: Literal["RECEIVED", "DECIDED"]
    checkin_id: str | None = None
    result: CheckinResult | None = None
    ticket_id: str | None = None
    show_id: str | None = None
    booking_id: str | None = None
    seat: str | None = None
    gate: str | None = None
    scanned_at: datetime | None = None
    checked_in_at: datetime | None = None
    checked_in_gate: str | None = None
    booking_status: BookingStatus | None = None
    reason: str | None = None


class TicketView(msgspec.Struct, frozen=True):
    ticket_id: str
    seat: str
    code: str  # what the QR code holds


class TicketList(msgspec.Struct, frozen=True):
    """One ticket per seat while the booking is CONFIRMED (empty in any other state), each code signed with the
    show's key (Ed25519)."""

    booking_id: str
    show_id: str
    status: BookingStatus
    tickets: list[TicketView]


class TicketKey(msgspec.Struct, frozen=True):
    """What a scanner verifies a show's ticket codes with, offline: `BX1.<payload>.<signature>` where the
    payload is base64url of show id, booking id and seat id joined by newlines and the signature is Ed25519
    over `BX1.<payload>`."""

    show_id: str
    algorithm: Literal["Ed25519"]
    public_key: str  # base64url of the 32 raw bytes


class BookingList(msgspec.Struct, frozen=True, omit_defaults=True):
    bookings: list[BookingView]
    next_cursor: str | None = None


class WaitlistView(msgspec.Struct, frozen=True, omit_defaults=True):
    """My place on a show's waiting list. `position` (1 = next) and `waiting` (how many wait) while WAITING;
    `booking_id` once OFFERED (the hold made for me: confirm it like any booking); `reason` when REFUSED."""

    show_id: str
    customer_id: str
    status: WaitlistStatus
    quantity: Count
    updated_at: datetime
    section: str | None = None
    reason: str | None = None
    booking_id: str | None = None
    joined_at: datetime | None = None
    position: Count | None = None
    waiting: Count | None = None


class WaitlistAccepted(msgspec.Struct, frozen=True):
    show_id: str
    status: WaitlistStatus


class Accepted(msgspec.Struct, frozen=True):
    booking_id: str
    status: BookingStatus


class DevToken(msgspec.Struct, frozen=True):
    token: str
    sub: str
    role: str
    expires_at: datetime


class ErrorDetail(msgspec.Struct, frozen=True, omit_defaults=True):
    code: str
    message: str
    details: Any = None


class ErrorBody(msgspec.Struct, frozen=True):
    error: ErrorDetail


class Health(msgspec.Struct, frozen=True):
    status: str


class Readiness(msgspec.Struct, frozen=True):
    status: Literal["ready", "not_ready"]
    checks: dict[str, bool]
