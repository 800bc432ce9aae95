"""Request bodies of the public HTTP API (see shared/API.md)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.commands import MAX_SEATS_PER_BOOKING
from schemas.layout import Layout
from schemas.validation import SchemaError, as_object, get_int, get_list, parse_time, req_int, req_str

IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,128}")


@dataclass(frozen=True)
class CreateShowBody:
    title: str
    venue: str
    starts_at: datetime
    hold_seconds: int
    layout: Layout


def parse_create_show(body: Any) -> CreateShowBody:
    obj = as_object(body, "$", {"title", "venue", "starts_at", "hold_seconds", "sections"})
    return CreateShowBody(
        title=req_str(obj, "title", "$", max_len=200),
        venue=req_str(obj, "venue", "$", max_len=200),
        starts_at=parse_time(obj.get("starts_at"), "$.starts_at"),
        hold_seconds=req_int(obj, "hold_seconds", "$", lo=10, hi=3600, default=120),
        layout=Layout.parse(obj.get("sections"), "$.sections"),
    )


@dataclass(frozen=True)
class BookingBody:
    seats: list[str] | None
    quantity: int | None

    def fingerprint(self, show_id: str) -> dict[str, Any]:
        return {"show_id": show_id, "seats": self.seats, "quantity": self.quantity}


def parse_booking(body: Any) -> BookingBody:
    obj = as_object(body, "$", {"seats", "quantity"})
    if ("seats" in obj) == ("quantity" in obj):
        raise SchemaError("$", "exactly one of seats or quantity is required")
    if "seats" in obj:
        seats = get_list(obj, "seats", "$", lo=1, hi=MAX_SEATS_PER_BOOKING)
        assert seats is not None
        for i, seat in enumerate(seats):
            if not isinstance(seat, str) or not 1 <= len(seat) <= 32:
                raise SchemaError(f"$.seats[{i}]", "must be a seat id string")
        if len(set(seats)) != len(seats):
            raise SchemaError("$.seats", "seat ids must be distinct")
        return BookingBody(seats=list(seats), quantity=None)
    quantity = get_int(obj, "quantity", "$", lo=1, hi=MAX_SEATS_PER_BOOKING)
    return BookingBody(seats=None, quantity=quantity)


def parse_confirm(body: Any) -> str:
    obj = as_object(body, "$", {"payment_reference"})
    return req_str(obj, "payment_reference", "$", max_len=200)


def parse_empty(body: Any) -> None:
    if body is not None:
        as_object(body, "$", set())
