"""Booking history from PostgreSQL (the read-replica DSN, which defaults to the primary), newest first."""
from __future__ import annotations

import base64
from datetime import datetime

import asyncpg
import orjson

from schemas.api import BookingView
from schemas.events import Refusal

_COLUMNS = ("booking_id, show_id, customer_id, status, seats, reason, expires_at, created_at, updated_at, "
            "refused_action, refused_reason, refused_at")


class BookingHistory:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def for_customer(self, customer_id: str, limit: int,
                           cursor: str | None) -> tuple[list[BookingView], str | None]:
        if cursor is None:
            rows = await self._pool.fetch(
                f"""SELECT {_COLUMNS} FROM bookings WHERE customer_id = $1
                    ORDER BY created_at DESC, booking_id DESC LIMIT $2""",
                customer_id, limit + 1,
            )
        else:
            created_at, booking_id = _decode_cursor(cursor)
            rows = await self._pool.fetch(
                f"""SELECT {_COLUMNS} FROM bookings WHERE customer_id = $1 AND (created_at, booking_id) < ($2, $3)
                    ORDER BY created_at DESC, booking_id DESC LIMIT $4""",
                customer_id, created_at, booking_id, limit + 1,
            )
        more = len(rows) > limit
        rows = rows[:limit]
        bookings = [BookingView(
            booking_id=r["booking_id"], show_id=r["show_id"], customer_id=r["customer_id"], status=r["status"],
            seats=list(r["seats"]), reason=r["reason"], expires_at=r["expires_at"], created_at=r["created_at"],
            updated_at=r["updated_at"],
            refused=Refusal(r["refused_action"], r["refused_reason"], r["refused_at"]) if r["refused_action"] else None,
        ) for r in rows]
        next_cursor = _encode_cursor(rows[-1]["created_at"], rows[-1]["booking_id"]) if more else None
        return bookings, next_cursor


def _encode_cursor(created_at: datetime, booking_id: str) -> str:
    raw = orjson.dumps([created_at.isoformat(), booking_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created_at, booking_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created_at), str(booking_id)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise ValueError("invalid cursor") from None
