"""Commands that cannot be decided, and whose request they were.

A message on booking.commands that the contract refuses (an old message, one written by someone else), or a
command the database refuses because of its content, goes to the dead-letter topic. That alone would leave
its sender waiting forever, so what can still be read of it (the show, the booking, the customer: each
validated with the contract's own field types) becomes an `Undecidable` that the batch decides like any
command: the booking is REJECTED, the confirm or cancel is refused, the show creation is rejected, each with
reason `invalid_request`, through the normal event path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from schemas.commands import Command
from schemas.fields import BookingId, CommandId, CustomerId, ShowId

INVALID_REQUEST = "invalid_request"


def _valid(value: Any, kind: Any) -> str | None:
    try:
        return msgspec.convert(value, kind, strict=True)
    except msgspec.ValidationError:
        return None


@dataclass(frozen=True, slots=True)
class Undecidable:
    show_id: str
    kind: str | None
    booking_id: str | None
    customer_id: str | None
    error: str
    command_id: str | None = None  # a scan's answer names its command (CheckIn)

    @classmethod
    def from_record(cls, value: bytes | None, key: bytes | None, error: str) -> Undecidable | None:
        """What a refused message still says, or None when it names no show of this partition (its key):
        then nobody's request can be told apart and the dead-letter topic is all there is."""
        try:
            obj = msgspec.json.decode(value or b"")
        except msgspec.DecodeError:
            return None
        if not isinstance(obj, dict):
            return None
        show_id = _valid(obj.get("show_id"), ShowId)
        if show_id is None or key is None or key != show_id.encode():
            return None  # a show of another partition must not be decided here
        kind = obj.get("type")
        return cls(
            show_id=show_id,
            kind=kind if isinstance(kind, str) else None,
            booking_id=_valid(obj.get("booking_id"), BookingId),
            customer_id=_valid(obj.get("customer_id"), CustomerId),
            error=error,
            command_id=_valid(obj.get("command_id"), CommandId),
        )

    @classmethod
    def from_command(cls, command: Command, error: str) -> Undecidable:
        return cls(
            show_id=command.show_id,
            kind=command.type,
            booking_id=getattr(command, "booking_id", None),
            customer_id=getattr(command, "customer_id", None),
            error=error,
            command_id=command.command_id,
        )
