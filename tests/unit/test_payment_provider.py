"""The Stripe adapter against the development provider, in-process: the checkout, its hosted page, the signed
webhooks and their verification (a forged, altered or stale one refused), voids and idempotent refunds."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette

from payments.devprovider import DevProvider, Store
from payments.provider import WebhookRefused
from payments.stripe import StripeAdapter, signature_header, verify_signature

SECRET, KEY = "whsec_unit", "sk_unit"


@pytest.fixture
def provider(tmp_path):
    return DevProvider(Store(tmp_path / "devpay.sqlite3"), KEY, "http://boxoffice/v1/payments/webhook/dev", SECRET,
                       "http://devpay")  # fmt: skip


def _adapter(provider: DevProvider, key: str = KEY) -> StripeAdapter:
    app = Starlette(routes=provider.routes())
    return StripeAdapter("dev", "http://devpay", key, SECRET, transport=httpx.ASGITransport(app=app))


async def _deliveries(provider: DevProvider) -> list[httpx.Request]:
    """The webhooks the provider delivers now, answered 200."""
    got: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        got.append(request)
        return httpx.Response(200, json={"received": True})

    stopping = asyncio.Event()
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        task = asyncio.create_task(provider.deliver_forever(http, stopping))
        await asyncio.sleep(0.3)
        stopping.set()
        await task
    return got


HOLD_END = datetime.now(UTC) + timedelta(minutes=30)


async def _checkout(adapter: StripeAdapter, key: str = "k1", expires_at: datetime = HOLD_END):
    return await adapter.create_checkout(
        booking_id="bk_1",
        show_id="sh_1",
        amount=4500,
        currency="EUR",
        description="Show: 2 seats",
        success_url="http://web/me/bookings/bk_1?paid=1",
        cancel_url="http://web/me/bookings/bk_1",
        expires_at=expires_at,
        idempotency_key=key,
    )


async def test_a_paid_checkout_arrives_as_a_signed_paid_notice(provider):
    adapter = _adapter(provider)
    made = await _checkout(adapter)
    assert made == await _checkout(adapter)  # the same idempotency key: the same checkout
    with pytest.raises(Exception, match="idempotency_error"):  # as Stripe: a key is for one set of parameters
        await _checkout(adapter, expires_at=HOLD_END + timedelta(seconds=1))
    assert made.url == f"http://devpay/pay/{made.checkout_id}"
    page = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=Starlette(routes=provider.routes())), base_url="http://devpay"
    )
    shown = await page.get(f"/pay/{made.checkout_id}")
    assert shown.status_code == 200 and "EUR 45.00" in shown.text and "TEST MODE" in shown.text
    declined = await page.post(f"/pay/{made.checkout_id}", data={"action": "decline"})
    assert declined.status_code == 402 and "declined" in declined.text
    paid = await page.post(f"/pay/{made.checkout_id}", data={"action": "pay"})
    assert paid.status_code == 303 and paid.headers["location"] == "http://web/me/bookings/bk_1?paid=1"
    (webhook,) = await _deliveries(provider)
    notice = adapter.read_webhook(webhook.content, webhook.headers, time.time())
    assert notice is not None
    assert (notice.kind, notice.booking_id, notice.show_id, notice.amount, notice.currency) == (
        "paid", "bk_1", "sh_1", 4500, "EUR",
    )  # fmt: skip
    assert notice.checkout_id == made.checkout_id and notice.payment_id and notice.payment_id.startswith("pi_test_")
    assert await adapter.void(made.checkout_id, "v1") is False  # paid already: refunded instead
    # refunds: idempotent per key, never beyond what was paid
    first = await adapter.refund(notice.payment_id, 1000, "r1")
    assert await adapter.refund(notice.payment_id, 1000, "r1") == first
    (refunded,) = await _deliveries(provider)
    refund = adapter.read_webhook(refunded.content, refunded.headers, time.time())
    assert refund is not None and (refund.kind, refund.amount, refund.payment_id) == (
        "refunded",
        1000,
        notice.payment_id,
    )
    with pytest.raises(Exception, match="amount_too_large"):
        await adapter.refund(notice.payment_id, 4000, "r2")
    await page.aclose()
    await adapter.close()


async def test_an_unpaid_checkout_is_voided_and_can_no_longer_be_paid(provider):
    adapter = _adapter(provider)
    made = await _checkout(adapter)
    assert await adapter.void(made.checkout_id, "v1") is True
    assert await adapter.void(made.checkout_id, "v2") is True  # expired already: done
    page = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=Starlette(routes=provider.routes())), base_url="http://devpay"
    )
    r = await page.post(f"/pay/{made.checkout_id}", data={"action": "pay"})
    assert "expired" in r.text
    (webhook,) = await _deliveries(provider)
    notice = adapter.read_webhook(webhook.content, webhook.headers, time.time())
    assert notice is not None and notice.kind == "expired"
    await page.aclose()
    await adapter.close()


async def test_a_webhook_target_that_does_not_answer_is_tried_again_and_the_provider_keeps_going(provider):
    """NGINX not up yet when the provider starts (make up starts it before NGINX): the delivery fails, is logged
    and tried again later; the provider goes on (a log call that raised ended the process)."""
    adapter = _adapter(provider)
    made = await _checkout(adapter)
    assert await adapter.void(made.checkout_id, "v1") is True  # one event to deliver: checkout.session.expired
    calls: list[httpx.Request] = []

    def refused(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("All connection attempts failed", request=request)

    stopping = asyncio.Event()
    async with httpx.AsyncClient(transport=httpx.MockTransport(refused)) as http:
        task = asyncio.create_task(provider.deliver_forever(http, stopping))
        await asyncio.sleep(0.3)
        assert not task.done()  # still delivering
        stopping.set()
        await task
    assert len(calls) == 1  # the next try is 0.5 s later (backoff)
    ((attempts, delivered),) = provider.store.db.execute("SELECT attempts, delivered FROM outbox").fetchall()
    assert (attempts, delivered) == (1, 0)
    provider.store.db.execute("UPDATE outbox SET next_at = 0")  # its time comes
    (webhook,) = await _deliveries(provider)
    notice = adapter.read_webhook(webhook.content, webhook.headers, time.time())
    assert notice is not None and notice.kind == "expired"
    await adapter.close()


async def test_the_api_refuses_a_wrong_key(provider):
    adapter = _adapter(provider, key="sk_wrong")
    with pytest.raises(Exception, match="401"):
        await _checkout(adapter)
    await adapter.close()


def test_only_a_fresh_signature_of_this_very_body_with_the_secret_is_accepted():
    body = json.dumps({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {}}}).encode()
    now = int(time.time())
    verify_signature(SECRET, body, signature_header(SECRET, body, now), now)
    cases = {
        "another secret": (signature_header("whsec_other", body, now), now, "invalid_signature"),
        "another body": (signature_header(SECRET, body + b" ", now), now, "invalid_signature"),
        "no timestamp": ("v1=" + signature_header(SECRET, body, now).split("v1=")[1], now, "invalid_signature"),
        "a replay, 10 minutes on": (signature_header(SECRET, body, now), now + 600, "stale_webhook"),
        "from the future": (signature_header(SECRET, body, now + 600), now, "stale_webhook"),
    }
    for what, (header, at, code) in cases.items():
        with pytest.raises(WebhookRefused) as refused:
            verify_signature(SECRET, body, header, at)
        assert refused.value.code == code, what
    # several signatures (a secret being rolled): one matching is enough
    rolled = signature_header("whsec_old", body, now) + ",v1=" + signature_header(SECRET, body, now).split("v1=")[1]
    verify_signature(SECRET, body, rolled, now)
