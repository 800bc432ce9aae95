"""Constrained field types shared by every command, event and API body. Each limit is written once, here;
the intake validates with these types, the processor decodes with them, and the OpenAPI document is
generated from them.

Patterns are whole-string: msgspec matches with `re.search`, so they are anchored with `\\A…\\Z` (Python's
`$` would also match before a final newline). `intake.openapi` spells the same pattern `^…$` for JSON
Schema (ECMA 262), where `$` means the end of the input.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta


def anchored(body: str, **constraints: Any) -> Meta:
    return Meta(pattern=rf"\A(?:{body})\Z", **constraints)


# Any character but C0/C1 controls (NUL included): every string that reaches PostgreSQL is clean text.
PRINTABLE = r"[^\x00-\x1f\x7f-\x9f]"

Text200 = Annotated[str, anchored(f"{PRINTABLE}*", min_length=1, max_length=200)]
# What people read as a show's name or place: no C0/C1 controls, no bidirectional controls (U+061C, U+200E/F,
# U+202A-202E, U+2066-2069: a title that displays as something else, or reverses what follows it) and no
# zero-width characters (U+200B-200D, U+2060, U+FEFF: two titles that look the same), and something other
# than spaces. Written as escapes: the OpenAPI document carries no invisible characters. Records store it
# NFC-normalised and trimmed (see `normalise_text`).
_NOT_SHOWN = r"\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
SHOW_TEXT_PATTERN = rf"[^\S{_NOT_SHOWN}]*[^\s{_NOT_SHOWN}][^{_NOT_SHOWN}]*"
SHOW_TEXT_RULE = (
    "must be text with something besides spaces, without control, bidirectional-control or zero-width characters"
)
ShowText = Annotated[
    str,
    anchored(
        SHOW_TEXT_PATTERN,
        min_length=1,
        max_length=200,
        description=SHOW_TEXT_RULE.replace("must be", "1..200 characters of", 1),
    ),
]
TEXT_LIMIT = 200
Email = Annotated[str, anchored(r"[^\x00-\x20\x7f-\x9f@]+@[^\x00-\x20\x7f-\x9f@]+", max_length=254)]
Phone = Annotated[str, anchored(r"\+?[0-9 ().-]{3,32}", max_length=32)]

ID_GRAMMAR = "[A-Za-z0-9_.:-]{1,64}"
ShowId = Annotated[str, anchored(ID_GRAMMAR)]
BookingId = Annotated[str, anchored(ID_GRAMMAR)]
CommandId = Annotated[str, anchored("[A-Za-z0-9_.:-]{1,128}")]
RequestId = Annotated[str, anchored("[A-Za-z0-9_.:-]{1,128}")]
CUSTOMER_GRAMMAR = "[A-Za-z0-9_.-]{1,64}"
CustomerId = Annotated[str, anchored(CUSTOMER_GRAMMAR)]
SectionName = Annotated[str, anchored("[A-Za-z0-9]{1,8}")]
# `{section}-{row}-{seat}`, 1-based, ASCII digits only (rows and seats per row are at most 200).
SEAT_GRAMMAR = "[A-Za-z0-9]{1,8}-[1-9][0-9]{0,2}-[1-9][0-9]{0,2}"
SeatId = Annotated[str, anchored(SEAT_GRAMMAR)]
ProviderName = Annotated[str, anchored("[a-z0-9_-]{1,32}")]
ProviderRef = Annotated[str, anchored("[A-Za-z0-9_.:-]{1,255}")]  # a provider's id (checkout, payment, event)
TicketId = Annotated[str, anchored("tk_[0-9a-f]{24}")]
Gate = Annotated[
    str, anchored("[A-Za-z0-9_.-][A-Za-z0-9 _.-]{0,39}", description="a gate's name: 1..40 of [A-Za-z0-9 _.-]")
]
IdempotencyKey = Annotated[str, anchored(r"[\x20-\x7e]{1,128}")]
Cursor = Annotated[str, anchored("[A-Za-z0-9_-]{1,512}")]

MAX_SEATS_PER_BOOKING = 10
MAX_SECTIONS = 50
MAX_SEATS = 100_000
Rows = Annotated[int, Meta(ge=1, le=200)]
SeatsPerRow = Annotated[int, Meta(ge=1, le=200)]
PriceCents = Annotated[int, Meta(ge=0, le=1_000_000_000)]
HoldSeconds = Annotated[int, Meta(ge=10, le=3600)]
# Per show: live (PENDING + CONFIRMED) seats one customer may hold, and how often one hold may be extended.
DEFAULT_MAX_SEATS_PER_CUSTOMER = 10
MaxSeatsPerCustomer = Annotated[int, Meta(ge=1, le=100)]
DEFAULT_MAX_HOLD_EXTENSIONS = 2
MaxHoldExtensions = Annotated[int, Meta(ge=0, le=10)]
# Per show: requests accepted within this many seconds of the sale's opening are decided in a drawn order
# among themselves (0: first come, first served from the opening).
FairStartWindow = Annotated[int, Meta(ge=0, le=300)]
# Per show: how long seats offered to someone on the waiting list are held for them.
DEFAULT_WAITLIST_OFFER_SECONDS = 300
WaitlistOfferSeconds = Annotated[int, Meta(ge=10, le=86_400)]
# The per-show secret the draw's order derives from (hex, chosen by the intake when it accepts the show).
FairStartSeed = Annotated[str, anchored("[0-9a-f]{16,64}")]
CancellableUntilHours = Annotated[int, Meta(ge=0, le=8760)]  # hours before the start
RefundPercent = Annotated[int, Meta(ge=0, le=100)]
Quantity = Annotated[int, Meta(ge=1, le=MAX_SEATS_PER_BOOKING)]
SeatList = Annotated[
    list[SeatId], Meta(min_length=1, max_length=MAX_SEATS_PER_BOOKING, extra_json_schema={"uniqueItems": True})
]
Limit = Annotated[int, Meta(ge=1, le=500)]
ShowVersion = Annotated[int, Meta(ge=0, le=2**53 - 1)]  # exact in a JavaScript number
Count = Annotated[int, Meta(ge=0)]
# An RFC 3339 time with an offset; records normalise it to UTC (see `utc`), so years are 1..9999 in UTC.
Time = Annotated[datetime, Meta(tz=True)]


def utc(value: datetime) -> datetime:
    """The same instant in UTC; refused (ValueError → a validation error) when that leaves years 1..9999."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time must fall within years 1..9999 in UTC") from None


def normalise_times(record: msgspec.Struct, *names: str) -> None:
    """For `__post_init__` of frozen records: store each named time in UTC."""
    for name in names:
        value = getattr(record, name)
        if value is not None and value.tzinfo is not UTC:  # "Z" decodes to UTC already: nothing to do
            msgspec.structs.force_setattr(record, name, utc(value))


def normalise_text(record: msgspec.Struct, *names: str) -> None:
    """For `__post_init__` of frozen records: store each named text NFC-normalised (one spelling of "é") and
    trimmed. Normalising can lengthen a text (a few characters decompose under NFC): refused past the limit."""
    for name in names:
        value = unicodedata.normalize("NFC", getattr(record, name)).strip()
        if len(value) > TEXT_LIMIT:
            raise ValueError(f"{name} is longer than {TEXT_LIMIT} characters once NFC-normalised")
        msgspec.structs.force_setattr(record, name, value)


def format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
