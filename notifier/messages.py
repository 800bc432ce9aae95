"""What each booking event says to the customer (pure)."""

from __future__ import annotations

from email.message import EmailMessage

from schemas import events as ev
from schemas.money import format_money
from schemas.notifications import WebhookPayload
from schemas.validation import format_time

NOTIFIED = (
    ev.BookingPending,
    ev.BookingConfirmed,
    ev.BookingExpired,
    ev.BookingCancelled,
    ev.BookingRejected,
    ev.BookingActionRefused,
    ev.BookingHoldExtended,
)

_SUBJECTS = {
    ev.BookingPending: "Seats held: {seats} (confirm before {expires_at})",
    ev.BookingConfirmed: "Booking confirmed: {seats}",
    ev.BookingExpired: "Your hold expired: {seats}",
    ev.BookingCancelled: "Booking cancelled: {seats}",
    ev.BookingRejected: "We could not book your seats ({reason})",
    ev.BookingActionRefused: "We could not {action} your booking ({refusal})",
    ev.BookingHoldExtended: "Hold extended: {seats} (confirm before {expires_at})",
}
_SHOW_CANCELLED_SUBJECT = "The show was cancelled, and your booking with it: {seats}"
_OFFER_SUBJECT = "From the waiting list, seats held for you: {seats} (confirm before {expires_at})"


def email_for(event: ev.BookingEvent, sender: str, public_url: str = "") -> EmailMessage:
    """The email of a booking event; `public_url`: the web client's origin (links to the order and tickets)."""
    seats = ", ".join(event.seats) or "-"
    expires_at = format_time(event.expires_at)
    refusal = event.refused
    message = EmailMessage()
    message["From"] = sender
    message["To"] = event.email
    offer = isinstance(event, ev.BookingPending) and event.waitlist_offer
    subject = _SUBJECTS[type(event)]
    if offer:
        subject = _OFFER_SUBJECT
    elif isinstance(event, ev.BookingCancelled) and event.reason == "show_cancelled":
        subject = _SHOW_CANCELLED_SUBJECT
    message["Subject"] = subject.format(
        seats=seats,
        expires_at=expires_at,
        reason=event.reason,
        action=refusal.action if refusal else "",
        refusal=refusal.reason if refusal else "",
    )
    # The event id makes the message id: a receiver can drop the rare duplicate a crash may cause.
    message["Message-ID"] = f"<{event.event_id}@boxoffice>"
    message["X-Boxoffice-Event"] = event.type
    message["X-Boxoffice-Booking"] = event.booking_id
    message.set_content(
        ("Seats were released and you were next on the waiting list.\n" if offer else "")
        + f"Booking {event.booking_id} for show {event.show_id} is now {event.status}.\n"
        f"Seats: {seats}\n"
        + (
            f"Total: {format_money(event.total, event.currency)}\n"
            if event.total is not None and event.currency
            else ""
        )
        + (f"Reason: {event.reason}\n" if event.reason else "")
        + (f"Hold expires at: {expires_at}\n" if isinstance(event, ev.BookingPending | ev.BookingHoldExtended) else "")
        + _payment_lines(event, public_url)
        + (
            f"Your {refusal.action} could not be applied: {refusal.reason}\n"
            if isinstance(event, ev.BookingActionRefused) and refusal
            else ""
        )
    )
    return message


def _payment_lines(event: ev.BookingEvent, public_url: str = "") -> str:
    """What the customer paid and gets back, and where the tickets are."""
    lines = ""
    p, settle = event.payment, event.settle
    if p is not None and p.status == "paid" and isinstance(event, ev.BookingConfirmed):
        lines += f"Paid: {format_money(p.amount, p.currency)} (payment {p.payment_id})\n"
        lines += f"Your tickets (one QR code per seat): {public_url.rstrip('/')}/me/bookings/{event.booking_id}\n"
    if settle is not None and settle.action == "refund":
        lines += f"Refund: {format_money(settle.amount, settle.currency)} to the card you paid with\n"
    elif isinstance(event, ev.BookingCancelled) and p is not None and p.status == "paid":
        lines += "No refund: this show's terms give nothing back for this cancellation.\n"
    return lines


def webhook_body(event: ev.BookingEvent) -> WebhookPayload:
    return WebhookPayload(
        event_id=event.event_id,
        type=event.type,
        booking_id=event.booking_id,
        show_id=event.show_id,
        customer_id=event.customer_id,
        phone=event.phone,
        status=event.status,
        seats=event.seats,
        reason=event.reason,
        expires_at=format_time(event.expires_at),
        occurred_at=format_time(event.occurred_at),
    )
