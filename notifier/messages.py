"""What each booking event says to the customer (pure)."""
from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from schemas import events as ev

NOTIFIED = frozenset({ev.BOOKING_PENDING, ev.BOOKING_CONFIRMED, ev.BOOKING_EXPIRED, ev.BOOKING_CANCELLED,
                      ev.BOOKING_REJECTED})

_SUBJECTS = {
    ev.BOOKING_PENDING: "Seats held: {seats} (confirm before {expires_at})",
    ev.BOOKING_CONFIRMED: "Booking confirmed: {seats}",
    ev.BOOKING_EXPIRED: "Your hold expired: {seats}",
    ev.BOOKING_CANCELLED: "Booking cancelled: {seats}",
    ev.BOOKING_REJECTED: "We could not book your seats ({reason})",
}


def email_for(event: dict[str, Any], sender: str) -> EmailMessage | None:
    if event["type"] not in NOTIFIED or not event.get("email"):
        return None
    seats = ", ".join(event["seats"]) or "-"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = event["email"]
    message["Subject"] = _SUBJECTS[event["type"]].format(seats=seats, expires_at=event.get("expires_at"),
                                                          reason=event.get("reason"))
    # The event id makes the message id: a receiver can drop the rare duplicate a crash may cause.
    message["Message-ID"] = f"<{event['event_id']}@boxoffice>"
    message["X-Boxoffice-Event"] = event["type"]
    message["X-Boxoffice-Booking"] = event["booking_id"]
    message.set_content(
        f"Booking {event['booking_id']} for show {event['show_id']} is now {event['status']}.\n"
        f"Seats: {seats}\n"
        + (f"Reason: {event['reason']}\n" if event.get("reason") else "")
        + (f"Hold expires at: {event['expires_at']}\n" if event["type"] == ev.BOOKING_PENDING else "")
    )
    return message


def webhook_body(event: dict[str, Any]) -> dict[str, Any]:
    return {k: event.get(k) for k in ("event_id", "type", "booking_id", "show_id", "customer_id", "phone",
                                      "status", "seats", "reason", "expires_at", "occurred_at")}
