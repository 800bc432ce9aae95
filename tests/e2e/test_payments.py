"""Paying for a hold end to end, against the development provider as the buyer's browser would use it: the
checkout, the provider's own page, its signed webhook confirming the booking (a forged or replayed one refused,
a copy a no-op), a cancellation refunded by the show's terms, a hold that ends unpaid voided, and money that
comes after the hold ended refunded, all carried out through the adapter by the notifier's payment channel."""

from __future__ import annotations

import json
import secrets
import time

import httpx

from payments.stripe import signature_header
from runtime.clients import secret
from tests.support import ids
from tests.support.notifiers import events_end, notifier_service, start_group_at
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually

PRICE = 2500


async def _held(api, customer: str, show_id: str, seats: list[str]) -> dict:
    booking_id = (await api.book(customer, show_id, seats=seats)).json()["booking_id"]
    return await api.wait_status(customer, booking_id)


async def _checkout(api, customer: str, booking_id: str) -> dict:
    r = await api.http.post(f"/v1/bookings/{booking_id}/checkout", headers=api.auth(customer))
    assert r.status_code == 200, r.text
    return r.json()


async def _pay(checkout: dict) -> httpx.Response:
    """What the buyer does on the provider's page: look at it, then pay with the test card."""
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(checkout["url"])
        assert page.status_code == 200 and "TEST MODE" in page.text
        return await browser.post(checkout["url"], data={"action": "pay"})


async def _payment(api, customer: str, booking_id: str) -> dict:
    return (await api.booking(customer, booking_id)).json().get("payment") or {}


async def test_pay_confirm_refund_void_and_late_money(api, system, settings):
    offsets = await events_end(settings)  # the notifier starts here, after the payments below were made
    show_id = await api.create_show(
        [{"name": "A", "rows": 2, "seats_per_row": 4, "price_cents": PRICE}], hold_seconds=10
    )
    r = await api.http.get(f"/v1/shows/{show_id}")
    assert r.json()["refund_percent"] == 100 and r.json()["cancellable_until_hours"] == 0
    alice, bob = ids.customer("alice"), ids.customer("bob")

    # 1. Alice pays in time: the signed webhook confirms her booking.
    held = await _held(api, alice, show_id, ["A-1-1", "A-1-2"])
    checkout = await _checkout(api, alice, held["booking_id"])
    assert (checkout["amount"], checkout["currency"], checkout["provider"]) == (2 * PRICE, "EUR", "dev")
    assert await _checkout(api, alice, held["booking_id"]) == checkout  # asked again: the same checkout
    paid = await _pay(checkout)
    assert paid.status_code == 303 and paid.headers["location"].endswith(f"/me/bookings/{held['booking_id']}?paid=1")
    confirmed = await api.wait_status(alice, held["booking_id"], {"CONFIRMED"})
    assert confirmed["payment"]["status"] == "paid" and confirmed["payment"]["amount"] == 2 * PRICE
    tickets = (await api.http.get(f"/v1/bookings/{held['booking_id']}/tickets", headers=api.auth(alice))).json()
    assert len(tickets["tickets"]) == 2

    # 2. The webhook door: a forged signature, and a replay signed long ago, are refused; a copy is a no-op.
    body = json.dumps({"id": "evt_forged", "type": "checkout.session.completed", "data": {"object": {}}}).encode()
    r = await api.http.post(
        "/v1/payments/webhook/dev",
        content=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": f"t={int(time.time())},v1=00ff"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_signature"
    whsec = secret(settings, "payments-webhook")
    assert whsec
    old = signature_header(whsec, body, int(time.time()) - 3600)
    r = await api.http.post(
        "/v1/payments/webhook/dev", content=body, headers={"Content-Type": "application/json", "Stripe-Signature": old}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "stale_webhook"
    version = (await api.seat_map(show_id))["version"]
    copy = {
        "id": "evt_copy",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": checkout["checkout_id"],
                "object": "checkout.session",
                "payment_intent": confirmed["payment"]["payment_id"],
                "amount_total": 2 * PRICE,
                "currency": "eur",
                "payment_status": "paid",
                "metadata": {"booking_id": held["booking_id"], "show_id": show_id},
            }
        },
    }
    raw = json.dumps(copy).encode()
    r = await api.http.post(
        "/v1/payments/webhook/dev",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": signature_header(whsec, raw, int(time.time())),
        },
    )
    assert r.status_code == 200 and r.json() == {"received": True, "handled": True}
    marker = await _held(api, bob, show_id, ["A-2-4"])  # decided after the copy, in the same queue
    assert marker["status"] == "PENDING"
    seat_map = await api.seat_map(show_id)
    assert seat_map["version"] == version + 1  # the copy made no event; bob's hold made one
    assert (await api.booking(alice, held["booking_id"])).json()["payment"] == confirmed["payment"]

    # 3. Bob's hold ends with its checkout open (voided once the notifier runs); Carol's money comes late.
    bob_checkout = await _checkout(api, bob, marker["booking_id"])
    carol = ids.customer("carol")
    late = await _held(api, carol, show_id, ["A-2-1"])
    late_checkout = await _checkout(api, carol, late["booking_id"])
    await api.wait_status(carol, late["booking_id"], {"EXPIRED"}, timeout=30)
    await api.wait_status(bob, marker["booking_id"], {"EXPIRED"}, timeout=30)
    assert (await _pay(late_checkout)).status_code == 303  # the provider had not voided it yet
    await eventually(
        lambda: _payment(api, carol, late["booking_id"]),
        lambda p: p.get("status") == "refund_requested",
        timeout=20,
    )

    # 4. Alice cancels within the terms: a full refund.
    r = await api.http.post(f"/v1/bookings/{held['booking_id']}/cancel", headers=api.auth(alice))
    assert r.status_code == 202
    await api.wait_status(alice, held["booking_id"], {"CANCELLED"})

    # The notifier carries the settlements out through the adapter: refunds recorded from the provider's own
    # webhooks, Bob's checkout voided (the provider's page says so).
    with SmtpSink() as sink:
        group = f"notifier-payments-{secrets.token_hex(3)}"
        await start_group_at(settings, group, offsets)
        notifier = notifier_service(system, sink.port, group).start()
        try:
            refunded = await eventually(
                lambda: _payment(api, alice, held["booking_id"]), lambda p: p.get("status") == "refunded", timeout=60
            )
            assert refunded["refund_amount"] == 2 * PRICE
            late_refund = await eventually(
                lambda: _payment(api, carol, late["booking_id"]), lambda p: p.get("status") == "refunded", timeout=60
            )
            assert late_refund["refund_amount"] == PRICE
            async with httpx.AsyncClient(timeout=10) as browser:
                page = await eventually(
                    lambda: browser.get(bob_checkout["url"]), lambda r: "expired" in r.text, timeout=30
                )
                assert "expired" in page.text
                r = await browser.post(bob_checkout["url"], data={"action": "pay"})
                assert "expired" in r.text  # nobody can pay for a hold that ended
            assert (await _payment(api, bob, marker["booking_id"]))["status"] == "void_requested"
        finally:
            notifier.stop()
    r = await api.http.post(f"/v1/bookings/{held['booking_id']}/checkout", headers=api.auth(alice))
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_pending"
