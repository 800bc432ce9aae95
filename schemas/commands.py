"""Commands on `booking.commands` (key = show id). Every write to a show travels as one of these."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import orjson

from schemas.layout import Layout
from schemas.validation import (
    SchemaError,
    as_object,
    format_time,
    get_int,
    get_list,
    get_str,
    loads,
    parse_time,
    req_int,
    req_str,
)

ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
CUSTOMER_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_SEATS_PER_BOOKING = 10
_COMMON = frozenset({"type", "command_id", "show_id", "issued_at"})


@dataclass(slots=True)
class CreateShow:
    TYPE: ClassVar[str] = "CreateShow"
    command_id: str
    show_id: str
    issued_at: str
    title: str
    venue: str
    starts_at: datetime
    hold_seconds: int
    layout: Layout

    def fields(self) -> dict[str, Any]:
        return {"title": self.title, "venue": self.venue, "starts_at": format_time(self.starts_at),
                "hold_seconds": self.hold_seconds, "sections": self.layout.to_list()}


@dataclass(slots=True)
class RequestBooking:
    TYPE: ClassVar[str] = "RequestBooking"
    command_id: str
    show_id: str
    issued_at: str
    booking_id: str
    request_id: str
    customer_id: str
    email: str | None
    phone: str | None
    seats: list[str] | None
    quantity: int | None

    def fields(self) -> dict[str, Any]:
        return {"booking_id": self.booking_id, "request_id": self.request_id, "customer_id": self.customer_id,
                "email": self.email, "phone": self.phone, "seats": self.seats, "quantity": self.quantity}


@dataclass(slots=True)
class ConfirmBooking:
    TYPE: ClassVar[str] = "ConfirmBooking"
    command_id: str
    show_id: str
    issued_at: str
    booking_id: str
    customer_id: str
    payment_reference: str

    def fields(self) -> dict[str, Any]:
        return {"booking_id": self.booking_id, "customer_id": self.customer_id,
                "payment_reference": self.payment_reference}


@dataclass(slots=True)
class CancelBooking:
    TYPE: ClassVar[str] = "CancelBooking"
    command_id: str
    show_id: str
    issued_at: str
    booking_id: str
    customer_id: str

    def fields(self) -> dict[str, Any]:
        return {"booking_id": self.booking_id, "customer_id": self.customer_id}


@dataclass(slots=True)
class ExpireBooking:
    TYPE: ClassVar[str] = "ExpireBooking"
    command_id: str
    show_id: str
    issued_at: str
    booking_id: str

    def fields(self) -> dict[str, Any]:
        return {"booking_id": self.booking_id}


Command = CreateShow | RequestBooking | ConfirmBooking | CancelBooking | ExpireBooking


def encode_command(command: Command) -> bytes:
    body = {"type": command.TYPE, "command_id": command.command_id, "show_id": command.show_id,
            "issued_at": command.issued_at}
    body.update(command.fields())
    return orjson.dumps(body)


def _decode_create_show(obj: dict[str, Any], common: dict[str, str]) -> CreateShow:
    as_object(obj, "$", _COMMON | {"title", "venue", "starts_at", "hold_seconds", "sections"})
    return CreateShow(
        **common,
        title=req_str(obj, "title", "$", max_len=200),
        venue=req_str(obj, "venue", "$", max_len=200),
        starts_at=parse_time(obj.get("starts_at"), "$.starts_at"),
        hold_seconds=req_int(obj, "hold_seconds", "$", lo=10, hi=3600),
        layout=Layout.parse(obj.get("sections"), "$.sections"),
    )


def _decode_request_booking(obj: dict[str, Any], common: dict[str, str]) -> RequestBooking:
    as_object(obj, "$", _COMMON | {"booking_id", "request_id", "customer_id", "email", "phone", "seats", "quantity"})
    seats = get_list(obj, "seats", "$", lo=1, hi=1000, optional=True)
    quantity = get_int(obj, "quantity", "$", lo=1, hi=1000, optional=True)
    if (seats is None) == (quantity is None):
        raise SchemaError("$", "exactly one of seats or quantity is required")
    if seats is not None and not all(isinstance(s, str) and 0 < len(s) <= 32 for s in seats):
        raise SchemaError("$.seats", "must be seat id strings")
    return RequestBooking(
        **common,
        booking_id=req_str(obj, "booking_id", "$", pattern=ID),
        request_id=req_str(obj, "request_id", "$", max_len=128),
        customer_id=req_str(obj, "customer_id", "$", pattern=CUSTOMER_ID),
        email=get_str(obj, "email", "$", max_len=254, optional=True),
        phone=get_str(obj, "phone", "$", max_len=32, optional=True),
        seats=seats,
        quantity=quantity,
    )


def _decode_confirm(obj: dict[str, Any], common: dict[str, str]) -> ConfirmBooking:
    as_object(obj, "$", _COMMON | {"booking_id", "customer_id", "payment_reference"})
    return ConfirmBooking(
        **common,
        booking_id=req_str(obj, "booking_id", "$", pattern=ID),
        customer_id=req_str(obj, "customer_id", "$", pattern=CUSTOMER_ID),
        payment_reference=req_str(obj, "payment_reference", "$", max_len=200),
    )


def _decode_cancel(obj: dict[str, Any], common: dict[str, str]) -> CancelBooking:
    as_object(obj, "$", _COMMON | {"booking_id", "customer_id"})
    return CancelBooking(
        **common,
        booking_id=req_str(obj, "booking_id", "$", pattern=ID),
        customer_id=req_str(obj, "customer_id", "$", pattern=CUSTOMER_ID),
    )


def _decode_expire(obj: dict[str, Any], common: dict[str, str]) -> ExpireBooking:
    as_object(obj, "$", _COMMON | {"booking_id"})
    return ExpireBooking(**common, booking_id=req_str(obj, "booking_id", "$", pattern=ID))


_DECODERS = {
    CreateShow.TYPE: _decode_create_show,
    RequestBooking.TYPE: _decode_request_booking,
    ConfirmBooking.TYPE: _decode_confirm,
    CancelBooking.TYPE: _decode_cancel,
    ExpireBooking.TYPE: _decode_expire,
}


def decode_command(raw: bytes, key: bytes | None = None) -> Command:
    """Decode and validate one command; the message key, when given, must equal its show id."""
    obj = as_object(loads(raw), "$")
    kind = obj.get("type")
    decoder = _DECODERS.get(kind) if isinstance(kind, str) else None
    if decoder is None:
        raise SchemaError("$.type", f"unknown command type {kind!r}")
    common = {
        "command_id": req_str(obj, "command_id", "$", max_len=128),
        "show_id": req_str(obj, "show_id", "$", pattern=ID),
        "issued_at": req_str(obj, "issued_at", "$", max_len=64),
    }
    parse_time(common["issued_at"], "$.issued_at")
    if key is not None and key.decode("utf-8", "replace") != common["show_id"]:
        raise SchemaError("$.show_id", "does not match the message key")
    return decoder(obj, common)
