"""What the notifier sends beyond email: the webhook's JSON body (the seed's SMS channel), typed. A receiver
verifies `X-Boxoffice-Signature` over these bytes and drops a repeat by its `Idempotency-Key` header."""

from __future__ import annotations

import msgspec


class WebhookPayload(msgspec.Struct, frozen=True):
    event_id: str
    type: str
    booking_id: str
    show_id: str
    customer_id: str
    phone: str | None
    status: str
    seats: list[str]
    reason: str | None
    expires_at: str | None  # RFC 3339, milliseconds, UTC (schemas.validation.format_time)
    occurred_at: str | None
