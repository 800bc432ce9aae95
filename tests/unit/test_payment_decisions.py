"""Payments as the processor decides them: a checkout recorded on a hold, the provider's notice confirming it,
money that came too late or for the wrong amount refunded, unpaid checkouts voided when the hold ends, and
cancellations refunded by the show's terms. Pure code."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from booking_processor.decide import Batch
from schemas import events as ev
from schemas.commands import (
    CancelBooking,
    CancelShow,
    CreateShow,
    ExpireBooking,
    RecordRefund,
    SettlePayment,
    StartCheckout,
)
from tests.unit.test_decide import LAYOUT, T0, _request

HOLD = 120


def _show(batch: Batch, cancellable_until_hours: int | None = 0, refund_percent: int = 100) -> None:
    batch.decide(
        CreateShow(
            command_id="c0",
            show_id="s",
            issued_at=T0,
            title="t",
            venue="v",
            starts_at=T0 + timedelta(days=30),
            hold_seconds=HOLD,
            sections=list(LAYOUT.sections),
            cancellable_until_hours=cancellable_until_hours,
            refund_percent=refund_percent,
        )
    )


def _held(**terms) -> Batch:
    batch = Batch(shows={}, bookings={}, now=T0)
    _show(batch, **terms)
    batch.decide(_request(1, seats=["A-1-1", "B-1-1"]))  # 100 + 50
    return batch


def _checkout(n: int = 1, amount: int = 150, at=T0) -> StartCheckout:
    return StartCheckout(
        command_id=f"sc{n}",
        show_id="s",
        issued_at=at,
        booking_id="b1",
        customer_id="cust1",
        provider="dev",
        checkout_id=f"cs_{n}",
        amount=amount,
        currency="EUR",
    )


def _paid(n: int = 1, amount: int = 150, at=T0, checkout: str = "cs_1") -> SettlePayment:
    return SettlePayment(
        command_id=f"sp{n}",
        show_id="s",
        issued_at=at,
        booking_id="b1",
        provider="dev",
        checkout_id=checkout,
        payment_id=f"pi_{n}",
        amount=amount,
        currency="EUR",
        provider_event_id=f"evt_{n}",
    )


def _last(batch: Batch) -> ev.BookingEvent:
    event = batch.events[-1]
    assert isinstance(event, ev.BookingEvent)
    return event


def test_a_checkout_paid_in_time_for_the_total_confirms_the_booking_once():
    batch = _held()
    batch.decide(_checkout())
    assert _last(batch).payment is not None and _last(batch).payment.status == "open"
    batch.decide(_paid())
    confirmed = _last(batch)
    assert isinstance(confirmed, ev.BookingConfirmed)
    assert confirmed.payment is not None and (confirmed.payment.status, confirmed.payment.payment_id) == (
        "paid",
        "pi_1",
    )
    assert confirmed.settle is None
    events = len(batch.events)
    batch.decide(_paid())  # the provider's retry, or a replay within the signature's tolerance
    assert len(batch.events) == events
    assert batch.shows["s"].seat_map.owner["A-1-1"] == ("b1", "BOOKED")


def test_money_that_comes_after_the_hold_ended_is_refunded_in_full():
    batch = _held()
    batch.decide(_checkout())
    batch.decide(_paid(at=T0 + timedelta(seconds=HOLD)))
    expired, refund = batch.events[-2], _last(batch)
    assert isinstance(expired, ev.BookingExpired) and expired.settle is not None
    assert expired.settle.action == "void"  # the open checkout; the provider answers "paid already"
    assert isinstance(refund, ev.BookingPaymentUpdated) and refund.settle is not None
    assert (refund.settle.action, refund.settle.payment_id, refund.settle.amount) == ("refund", "pi_1", 150)
    assert refund.settle.reason == "late_payment"
    assert refund.payment is not None and refund.payment.status == "refund_requested"
    assert batch.shows["s"].seat_map.is_free("A-1-1")


def test_a_payment_of_another_amount_does_not_confirm_and_is_refunded():
    batch = _held()
    batch.decide(_checkout())
    batch.decide(_paid(amount=149))
    refund = _last(batch)
    assert batch.bookings["b1"].status == "PENDING"
    assert refund.settle is not None and (refund.settle.reason, refund.settle.amount) == ("amount_mismatch", 149)


def test_a_hold_that_expires_with_its_checkout_open_has_it_voided():
    batch = _held()
    batch.decide(_checkout())
    later = Batch(shows=batch.shows, bookings=batch.bookings, now=T0 + timedelta(seconds=HOLD + 1))
    later.decide(ExpireBooking(command_id="x", show_id="s", issued_at=later.now, booking_id="b1"))
    expired = _last(later)
    assert isinstance(expired, ev.BookingExpired)
    assert expired.settle is not None and (expired.settle.action, expired.settle.checkout_id) == ("void", "cs_1")
    assert expired.payment is not None and expired.payment.status == "void_requested"


def test_a_checkout_recorded_after_its_hold_ended_is_voided_and_a_wrong_amount_too():
    batch = _held()
    batch.decide(_checkout(at=T0 + timedelta(seconds=HOLD)))
    assert _last(batch).settle is not None and _last(batch).settle.reason == "booking_pending"
    assert batch.bookings["b1"].payment is None
    batch.decide(_checkout(2, amount=1))
    assert _last(batch).settle is not None and _last(batch).settle.reason == "amount_mismatch"
    # a newer checkout replaces an unpaid one, which is voided
    batch.decide(_checkout(3))
    batch.decide(_checkout(4))
    assert _last(batch).settle is not None and _last(batch).settle.checkout_id == "cs_3"
    assert batch.bookings["b1"].payment is not None and batch.bookings["b1"].payment.checkout_id == "cs_4"


def test_cancelling_a_paid_booking_refunds_by_the_show_s_terms_and_the_refund_is_recorded():
    batch = _held(refund_percent=80)
    batch.decide(_checkout())
    batch.decide(_paid())
    batch.decide(CancelBooking(command_id="cx", show_id="s", issued_at=T0, booking_id="b1", customer_id="cust1"))
    cancelled = _last(batch)
    assert isinstance(cancelled, ev.BookingCancelled) and cancelled.settle is not None
    assert (cancelled.settle.action, cancelled.settle.amount, cancelled.settle.reason) == ("refund", 120, "cancelled")
    refund = RecordRefund(command_id="rr", show_id="s", issued_at=T0, booking_id="b1", provider="dev",
                          payment_id="pi_1", amount=120, provider_event_id="evt_r")  # fmt: skip
    batch.decide(refund)
    assert batch.bookings["b1"].payment is not None
    assert (batch.bookings["b1"].payment.status, batch.bookings["b1"].payment.refund_amount) == ("refunded", 120)


def test_a_confirmed_booking_cannot_be_cancelled_past_the_terms_deadline_or_when_the_terms_say_never():
    for hours, at in ((None, T0), (48, T0 + timedelta(days=29))):
        batch = _held(cancellable_until_hours=hours)
        batch.decide(_checkout())
        batch.decide(_paid())
        batch.decide(CancelBooking(command_id="cx", show_id="s", issued_at=at, booking_id="b1", customer_id="cust1"))
        refused = _last(batch)
        assert isinstance(refused, ev.BookingActionRefused) and refused.refused is not None
        assert refused.refused.reason == "cancellation_closed" and batch.bookings["b1"].status == "CONFIRMED"


def test_a_cancelled_show_refunds_every_paid_booking_in_full_whatever_the_terms():
    batch = _held(cancellable_until_hours=None, refund_percent=0)
    batch.decide(_checkout())
    batch.decide(_paid())
    batch.decide(CancelShow(command_id="cs", show_id="s", issued_at=T0))
    cancelled = _last(batch)
    assert cancelled.settle is not None and (cancelled.settle.amount, cancelled.settle.reason) == (
        150,
        "show_cancelled",
    )


def test_a_second_payment_of_a_confirmed_booking_is_refunded_and_the_first_kept():
    batch = _held()
    batch.decide(_checkout())
    batch.decide(_paid())
    batch.decide(_paid(2, checkout="cs_other"))
    refund = _last(batch)
    assert refund.settle is not None and (refund.settle.payment_id, refund.settle.reason) == ("pi_2", "paid_twice")
    assert batch.bookings["b1"].payment is not None and batch.bookings["b1"].payment.payment_id == "pi_1"


def test_copies_of_a_notice_the_booking_does_not_keep_ask_one_refund_and_a_late_checkout_is_voided():
    batch = _held()
    batch.decide(_checkout())
    batch.decide(_paid())
    batch.decide(_paid(2, checkout="cs_other"))
    batch.decide(msgspec.structs.replace(_paid(2, checkout="cs_other"), command_id="again"))
    keys = [e.settle.key for e in batch.events if isinstance(e, ev.BookingEvent) and e.settle is not None]
    assert keys == ["refund-all/pi_2", "refund-all/pi_2"]  # the provider makes that refund once
    batch.decide(_checkout(9))  # a checkout opened after the booking was paid: nobody may pay it
    assert _last(batch).settle is not None and (_last(batch).settle.action, _last(batch).settle.checkout_id) == (
        "void",
        "cs_9",
    )
    assert batch.bookings["b1"].payment is not None and batch.bookings["b1"].payment.payment_id == "pi_1"
