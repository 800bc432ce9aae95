"""Money (issue 20): the currency allow-list, formatting in minor units, totals from a layout, and every reader
of a booking (the projection, history, the email) showing the same total. Old events read as EUR, no total."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from intake.history import history_view
from notifier.messages import email_for
from projections.apply import booking_view
from schemas import events as ev
from schemas.commands import decode_command
from schemas.events import decode_event
from schemas.layout import Layout, Section
from schemas.money import CURRENCIES, DEFAULT_CURRENCY, format_money, minor_units
from schemas.validation import SchemaError

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LAYOUT = Layout((Section("A", 2, 4, 1250), Section("B", 1, 3, 500)))


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1250, "EUR", "EUR 12.50"),
        (5, "USD", "USD 0.05"),
        (123456789, "GBP", "GBP 1,234,567.89"),
        (1200, "JPY", "JPY 1,200"),
        (1250, "BHD", "BHD 1.250"),
        (0, "EUR", "EUR 0.00"),
    ],
)
def test_format_money_uses_the_currency_s_minor_units(amount, currency, text):
    assert format_money(amount, currency) == text


def test_the_allow_list_is_iso_codes_with_known_minor_units():
    assert DEFAULT_CURRENCY in CURRENCIES and len(CURRENCIES) >= 30
    assert all(len(c) == 3 and c.isascii() and c.isupper() for c in CURRENCIES)
    assert (minor_units("EUR"), minor_units("JPY"), minor_units("KWD")) == (2, 0, 3)


def test_layout_price_of_sums_section_prices():
    assert LAYOUT.price_of(["A-1-1", "A-2-4", "B-1-1"]) == 3000
    assert LAYOUT.price_of([]) == 0


def _create_show(**extra) -> bytes:
    return msgspec.json.encode(
        {
            "type": "CreateShow",
            "command_id": "c",
            "show_id": "s",
            "issued_at": "2026-01-01T00:00:00Z",
            "title": "t",
            "venue": "v",
            "starts_at": "2027-01-01T00:00:00Z",
            "hold_seconds": 120,
            "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}],
            **extra,
        }
    )


def test_old_commands_and_events_decode_as_eur_without_totals():
    assert decode_command(_create_show(), b"s").currency == "EUR"
    assert decode_command(_create_show(currency="JPY"), b"s").currency == "JPY"
    with pytest.raises(SchemaError, match=r"\$\.currency"):
        decode_command(_create_show(currency="EUD"), b"s")
    old = decode_event(
        msgspec.json.encode(
            {
                "type": "BookingPending",
                "event_id": "s/2",
                "show_id": "s",
                "show_version": 2,
                "occurred_at": "2026-01-01T00:00:00Z",
                "booking_id": "b",
                "customer_id": "c",
                "seats": ["A-1-1"],
                "status": "PENDING",
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
            }
        )
    )
    assert isinstance(old, ev.BookingPending) and old.total is None and old.currency is None
    view = msgspec.json.decode(msgspec.json.encode(booking_view(old)))
    assert "total" not in view and "currency" not in view


def _confirmed(total: int | None = 1750, currency: str | None = "EUR") -> ev.BookingConfirmed:
    return ev.BookingConfirmed(
        event_id="s/3",
        show_id="s",
        show_version=3,
        occurred_at=T0,
        booking_id="b",
        customer_id="c",
        email="c@example.org",
        seats=["A-1-1", "B-1-1"],
        status="CONFIRMED",
        created_at=T0,
        updated_at=T0,
        total=total,
        currency=currency,
    )


def _history_row(**over):
    row = {
        "booking_id": "b",
        "show_id": "s",
        "customer_id": "c",
        "status": "CONFIRMED",
        "seats": ["A-1-1", "B-1-1"],
        "reason": None,
        "expires_at": None,
        "created_at": T0,
        "updated_at": T0,
        "refused_action": None,
        "refused_reason": None,
        "refused_at": None,
        "extensions": 0,
        "currency": "EUR",
        "show_sections": LAYOUT.to_list(),
    }
    return {**row, **over}


def test_the_projection_and_history_show_the_same_total():
    projected = booking_view(_confirmed())
    layouts: dict[str, Layout] = {}
    from_history = history_view(_history_row(), layouts)
    assert projected == from_history
    assert (from_history.total, from_history.currency) == (1750, "EUR")
    assert "s" in layouts  # one layout decoded per show per page
    rejected = history_view(_history_row(status="REJECTED", seats=[]), layouts)
    assert (rejected.total, rejected.currency) == (None, None)


def test_the_confirmation_email_shows_the_total_in_the_currency():
    body = email_for(_confirmed(), "box@example.org").get_content()
    assert "Total: EUR 17.50" in body
    yen = email_for(_confirmed(total=2400, currency="JPY"), "box@example.org").get_content()
    assert "Total: JPY 2,400" in yen
    assert "Total" not in email_for(_confirmed(total=None, currency=None), "box@example.org").get_content()


def test_the_confirmation_of_a_paid_booking_says_what_was_paid_and_links_its_tickets():
    from schemas.payments import Payment, Settlement

    paid = msgspec.structs.replace(_confirmed(), payment=Payment("dev", "cs_1", "paid", 1750, "EUR", payment_id="pi_1"))
    body = email_for(paid, "box@example.org", "http://127.0.0.1:8000").get_content()
    assert "Paid: EUR 17.50 (payment pi_1)" in body
    assert "http://127.0.0.1:8000/me/bookings/b" in body
    refund = Settlement("refund", "dev", "cs_1", "pi_1", 1400, "EUR", "cancelled")
    cancelled = ev.BookingCancelled(**{**msgspec.structs.asdict(paid), "status": "CANCELLED", "settle": refund})
    assert "Refund: EUR 14.00 to the card you paid with" in email_for(cancelled, "box@example.org").get_content()
