"""Events on `booking.events` (key = show id). `show_version` is 1 for ShowCreated and grows by exactly 1
with every later event of the show; 0 is used only for rejections of a show that does not exist."""
from __future__ import annotations

from typing import Any

from schemas.validation import SchemaError, as_object, loads

SHOW_CREATED = "ShowCreated"
BOOKING_PENDING = "BookingPending"
BOOKING_REJECTED = "BookingRejected"
BOOKING_CONFIRMED = "BookingConfirmed"
BOOKING_EXPIRED = "BookingExpired"
BOOKING_CANCELLED = "BookingCancelled"
BOOKING_EVENTS = frozenset({BOOKING_PENDING, BOOKING_REJECTED, BOOKING_CONFIRMED, BOOKING_EXPIRED,
                            BOOKING_CANCELLED})
ALL_EVENTS = BOOKING_EVENTS | {SHOW_CREATED}

_COMMON_REQUIRED = ("type", "event_id", "show_id", "show_version", "occurred_at")
_SHOW_REQUIRED = ("title", "venue", "starts_at", "hold_seconds", "sections", "seats_total", "seats_available")
_BOOKING_REQUIRED = ("booking_id", "customer_id", "seats", "status", "reason", "expires_at", "created_at",
                     "seats_available")


def decode_event(raw: bytes) -> dict[str, Any]:
    """Decode one event and check that the fields its consumers rely on are present."""
    event = as_object(loads(raw), "$")
    for key in _COMMON_REQUIRED:
        if key not in event:
            raise SchemaError(f"$.{key}", "is required")
    kind = event["type"]
    if kind not in ALL_EVENTS:
        raise SchemaError("$.type", f"unknown event type {kind!r}")
    if not isinstance(event["show_version"], int) or event["show_version"] < 0:
        raise SchemaError("$.show_version", "must be a non-negative integer")
    for key in _SHOW_REQUIRED if kind == SHOW_CREATED else _BOOKING_REQUIRED:
        if key not in event:
            raise SchemaError(f"$.{key}", "is required")
    return event
