"""Commands on `booking.commands` (key = show id). Every write to a show travels as one of these.

One tagged union (`type`) decoded in one strict call: unknown fields, wrong types and out-of-range values
are refused with a SchemaError naming the path. The intake builds commands from bodies validated with the
same field types and checks each one by decoding its own encoding before publishing (`checked_encoding`),
so nothing it accepts can be undecodable at the processor.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from schemas.fields import (
    DEFAULT_MAX_HOLD_EXTENSIONS,
    DEFAULT_MAX_SEATS_PER_CUSTOMER,
    DEFAULT_WAITLIST_OFFER_SECONDS,
    BookingId,
    CancellableUntilHours,
    CommandId,
    CustomerId,
    Email,
    FairStartSeed,
    FairStartWindow,
    Gate,
    HoldSeconds,
    MaxHoldExtensions,
    MaxSeatsPerCustomer,
    Phone,
    PriceCents,
    ProviderName,
    ProviderRef,
    Quantity,
    RefundPercent,
    RequestId,
    SeatId,
    SeatList,
    SectionName,
    ShowId,
    Text200,
    TicketId,
    Time,
    WaitlistOfferSeconds,
    normalise_times,
)
from schemas.layout import Layout, Sections, check_sections
from schemas.money import DEFAULT_CURRENCY, Currency
from schemas.validation import SchemaError, decode


# Each command repeats `frozen=True`: msgspec inherits it from the base, mypy's dataclass_transform does not.
class _Command(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="type", kw_only=True, omit_defaults=True
):
    command_id: CommandId
    show_id: ShowId
    issued_at: Time

    def __post_init__(self) -> None:
        normalise_times(self, "issued_at")

    @property
    def type(self) -> str:
        return self.__struct_config__.tag  # type: ignore[return-value]


class CreateShow(_Command, tag="CreateShow", frozen=True):
    title: Text200
    venue: Text200
    starts_at: Time
    hold_seconds: HoldSeconds
    sections: Sections
    # Defaults: commands written before these rules existed decode as shows with the defaults.
    max_seats_per_customer: MaxSeatsPerCustomer = DEFAULT_MAX_SEATS_PER_CUSTOMER
    max_hold_extensions: MaxHoldExtensions = DEFAULT_MAX_HOLD_EXTENSIONS
    currency: Currency = DEFAULT_CURRENCY
    # The sale: from `sale_opens_at` (None: from the show's creation) until `sale_closes_at` (None: its start);
    # requests of the first `fair_start_window_s` are drawn in an order `fair_start_seed` fixes.
    sale_opens_at: Time | None = None
    sale_closes_at: Time | None = None
    fair_start_window_s: FairStartWindow = 0
    fair_start_seed: FairStartSeed | None = None
    waitlist_offer_seconds: WaitlistOfferSeconds = DEFAULT_WAITLIST_OFFER_SECONDS
    # The cancellation terms (defaults: as before terms existed, until the start and in full).
    cancellable_until_hours: CancellableUntilHours | None = 0
    refund_percent: RefundPercent = 100

    def __post_init__(self) -> None:
        normalise_times(self, "issued_at", "starts_at", "sale_opens_at", "sale_closes_at")
        check_sections(self.sections)
        check_sale_window(self.starts_at, self.sale_opens_at, self.sale_closes_at, self.fair_start_window_s)
        if self.fair_start_window_s and self.fair_start_seed is None:
            raise ValueError("a fair start needs its seed")

    @property
    def layout(self) -> Layout:
        return Layout(self.sections)


def check_sale_window(
    starts_at: datetime, opens_at: datetime | None, closes_at: datetime | None, fair_start_window_s: int
) -> None:
    """The sale closes at or before the show starts and opens before it closes, and a fair start has an
    opening to start from: the rule a show body and command share (times in UTC already)."""
    closes = closes_at if closes_at is not None else starts_at
    if closes > starts_at:
        raise ValueError("sale_closes_at must not be after starts_at")
    if opens_at is not None and opens_at >= closes:
        raise ValueError("sale_opens_at must be before the sale closes (sale_closes_at, else starts_at)")
    if fair_start_window_s and opens_at is None:
        raise ValueError("fair_start_window_s needs sale_opens_at (the window follows the opening)")


def check_seat_choice(
    seats: list[str] | None, quantity: int | None, section: str | None = None, price_cents: int | None = None
) -> None:
    """Exactly one of `seats` (distinct) or `quantity`, and a section or price only with a quantity: the rule
    a booking body and command share."""
    if (seats is None) == (quantity is None):
        raise ValueError("exactly one of seats or quantity is required")
    if seats is not None and len(set(seats)) != len(seats):
        raise ValueError("seat ids must be distinct")
    if seats is not None and (section is not None or price_cents is not None):
        raise ValueError("section and price_cents only go with quantity (best available)")


class RequestBooking(_Command, tag="RequestBooking", frozen=True):
    booking_id: BookingId
    request_id: RequestId
    customer_id: CustomerId
    email: Email | None = None
    phone: Phone | None = None
    seats: SeatList | None = None
    quantity: Quantity | None = None
    # Best available only: take the seats from this section, or from sections at this price.
    section: SectionName | None = None
    price_cents: PriceCents | None = None

    def __post_init__(self) -> None:
        normalise_times(self, "issued_at")
        check_seat_choice(self.seats, self.quantity, self.section, self.price_cents)


class ConfirmBooking(_Command, tag="ConfirmBooking", frozen=True):
    booking_id: BookingId
    customer_id: CustomerId
    payment_reference: Text200


class CancelBooking(_Command, tag="CancelBooking", frozen=True):
    booking_id: BookingId
    customer_id: CustomerId


class ExtendBooking(_Command, tag="ExtendBooking", frozen=True):
    """Prolong a PENDING hold by the show's hold time (a bounded number of times, never past the sale's close)."""

    booking_id: BookingId
    customer_id: CustomerId


class ExpireBooking(_Command, tag="ExpireBooking", frozen=True):
    booking_id: BookingId


class DrawFairStart(_Command, tag="DrawFairStart", frozen=True):
    """Decide the requests of a show's fair-start window in their drawn order, once the window is over (sent by
    the expiry worker; the first request after the window does the same)."""


class JoinWaitlist(_Command, tag="JoinWaitlist", frozen=True):
    """Wait for `quantity` seats (of `section`, if given) of a show that has none free: released seats are
    offered in join order as a hold."""

    customer_id: CustomerId
    quantity: Quantity
    section: SectionName | None = None
    email: Email | None = None
    phone: Phone | None = None


class LeaveWaitlist(_Command, tag="LeaveWaitlist", frozen=True):
    customer_id: CustomerId


class UpdateShow(_Command, tag="UpdateShow", frozen=True):
    """An admin changes the show's title or venue (any time before it is cancelled), or its start (only
    before its sale opens, to a time still ahead)."""

    title: Text200 | None = None
    venue: Text200 | None = None
    starts_at: Time | None = None

    def __post_init__(self) -> None:
        normalise_times(self, "issued_at", "starts_at")


class CloseSales(_Command, tag="CloseSales", frozen=True):
    """An admin ends the sale now (holds made before may still be confirmed until they end)."""


class CancelShow(_Command, tag="CancelShow", frozen=True):
    """An admin cancels the show: every live booking cancelled (`show_cancelled`), the waiting list and the
    fair start's waiting requests answered, and nothing of it ever sold again."""


class CheckIn(_Command, tag="CheckIn", frozen=True):
    """A scanner at a gate presents a ticket whose signature the intake verified: admitted the first time its
    booking is CONFIRMED, else already used (when, at which gate) or revoked. Decided in the show's queue, so
    two gates scanning the same ticket at once admit it once."""

    ticket_id: TicketId
    booking_id: BookingId
    seat: SeatId
    gate: Gate
    scanner_id: CustomerId


class StartCheckout(_Command, tag="StartCheckout", frozen=True):
    """The intake opened a checkout at the provider for a PENDING booking's total: record it on the booking (a
    hold that ended meanwhile has it voided)."""

    booking_id: BookingId
    customer_id: CustomerId
    provider: ProviderName
    checkout_id: ProviderRef
    amount: PriceCents
    currency: Currency


class SettlePayment(_Command, tag="SettlePayment", frozen=True):
    """The provider's signed webhook says a booking's checkout was paid: confirm it when accepted before its
    hold ends and the amount is its total, else refund the money."""

    booking_id: BookingId
    provider: ProviderName
    checkout_id: ProviderRef
    payment_id: ProviderRef
    amount: PriceCents
    currency: Currency
    provider_event_id: ProviderRef


class RecordRefund(_Command, tag="RecordRefund", frozen=True):
    """The provider's signed webhook says a payment was refunded (`amount`: all refunded so far)."""

    booking_id: BookingId
    provider: ProviderName
    payment_id: ProviderRef
    amount: PriceCents
    provider_event_id: ProviderRef


Command = (
    CreateShow
    | RequestBooking
    | ConfirmBooking
    | CancelBooking
    | ExtendBooking
    | ExpireBooking
    | DrawFairStart
    | JoinWaitlist
    | LeaveWaitlist
    | UpdateShow
    | CloseSales
    | CancelShow
    | CheckIn
    | StartCheckout
    | SettlePayment
    | RecordRefund
)

_decoder: msgspec.json.Decoder[Command] = msgspec.json.Decoder(Command)
_encoder = msgspec.json.Encoder()


def encode_command(command: Command) -> bytes:
    return _encoder.encode(command)


def decode_command(raw: bytes, key: bytes | None = None) -> Command:
    """Decode and validate one command; the message key, when given, must equal its show id."""
    command = decode(raw, _decoder)
    if key is not None and key != command.show_id.encode():
        raise SchemaError("$.show_id", "does not match the message key")
    return command


def checked_encoding(command: Command) -> bytes:
    """The command's bytes, after proving the processor's decoder takes them back unchanged. A record is
    built without validation (only decoding validates); a refusal here is a defect of the caller."""
    raw = encode_command(command)
    if decode_command(raw, command.show_id.encode()) != command:
        raise SchemaError("$", "command does not survive its own encoding")
    return raw
