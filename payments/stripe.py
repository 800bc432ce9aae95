"""The adapter for Stripe's API: Checkout Sessions for the hosted payment page, Refunds, and webhooks signed
with `Stripe-Signature` (HMAC-SHA256 of `<timestamp>.<body>` with the endpoint's secret). The development
provider (payments/devprovider.py) speaks the same subset, so this is the code the local stack runs too.

Requests are form-encoded with Stripe's bracket notation and carry an `Idempotency-Key`: a retry (ours, or
a redelivered command's) creates one checkout and refunds once. A webhook is trusted only when one of its
`v1` signatures matches and its timestamp is within `tolerance_s` of our clock: an old one replayed is refused
(a copy within it is queued again and decided as a no-op: a payment settles once).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
import msgspec

from payments.provider import Checkout, PaymentNotice, ProviderError, WebhookRefused

SIGNATURE_HEADER = "stripe-signature"
TOLERANCE_S = 300  # Stripe's libraries' default
# Stripe's Checkout Sessions live 30 minutes at least: a shorter hold still ends on our clock (the expiry
# voids the session then), the session's own end is only the provider's backstop. The caller passes an end
# derived from the hold alone (intake/routes.py), so a retry under the same idempotency key sends the very
# same parameters (Stripe refuses a key reused with others).
MIN_SESSION_S = 1800


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """What the provider sends (the development provider signs with this)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, body: bytes, header: str, now: float, tolerance_s: float = TOLERANCE_S) -> None:
    """WebhookRefused unless `header` signs `body` with `secret`, at a time within `tolerance_s` of `now`."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise WebhookRefused("invalid_signature", "the signature header has no timestamp") from None
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, v) for v in parts.get("v1", [])):
        raise WebhookRefused("invalid_signature", "no v1 signature of this body matches the endpoint's secret")
    if abs(now - timestamp) > tolerance_s:
        raise WebhookRefused("stale_webhook", f"signed {int(now - timestamp)} s away from now: refused as a replay")


class _Object(msgspec.Struct):
    id: str = ""
    object: str = ""
    payment_intent: str | None = None
    amount_total: int | None = None
    amount_refunded: int | None = None
    currency: str = ""
    payment_status: str | None = None
    metadata: dict[str, str] = {}


class _Data(msgspec.Struct):
    object: _Object


class _Event(msgspec.Struct):
    id: str
    type: str
    data: _Data


_event = msgspec.json.Decoder(_Event)
_PAID = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}


def read_event(body: bytes) -> PaymentNotice | None:
    """The notice of a (verified) event body; None for the types boxoffice does not act on."""
    try:
        event = _event.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise WebhookRefused("invalid_webhook", f"not a provider event: {exc}") from None
    obj = event.data.object
    booking_id, show_id = obj.metadata.get("booking_id"), obj.metadata.get("show_id")
    if not booking_id or not show_id:
        return None  # not one of ours (another integration on the same account)
    if event.type in _PAID and obj.payment_status == "paid":
        kind, checkout_id, amount = "paid", obj.id, obj.amount_total
    elif event.type == "checkout.session.expired":
        kind, checkout_id, amount = "expired", obj.id, obj.amount_total
    elif event.type == "charge.refunded":
        kind, checkout_id, amount = "refunded", obj.metadata.get("checkout_id", ""), obj.amount_refunded
    else:
        return None
    if amount is None or amount < 0 or len(obj.currency) != 3:
        raise WebhookRefused("invalid_webhook", "the event has no amount or currency")
    return PaymentNotice(
        event.id, kind, booking_id, show_id, checkout_id, obj.payment_intent, amount, obj.currency.upper()
    )


class StripeAdapter:
    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str,
        webhook_secret: str,
        tolerance_s: float = TOLERANCE_S,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,  # tests: the development provider in-process
    ) -> None:
        self.name = name
        self._secret, self._tolerance_s = webhook_secret, tolerance_s
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_s,
            follow_redirects=False,
            transport=transport,
        )

    async def _post(self, path: str, form: dict[str, Any], idempotency_key: str) -> httpx.Response:
        try:
            return await self._http.post(path, data=form, headers={"Idempotency-Key": idempotency_key})
        except httpx.HTTPError as exc:
            raise ProviderError(f"{self.name}: {path}: {exc!r}") from exc

    @staticmethod
    def _json(response: httpx.Response, what: str) -> dict[str, Any]:
        if response.status_code >= 300:
            raise ProviderError(f"{what}: HTTP {response.status_code}: {response.text[:300]}")
        body: dict[str, Any] = response.json()
        return body

    async def create_checkout(
        self,
        *,
        booking_id: str,
        show_id: str,
        amount: int,
        currency: str,
        description: str,
        success_url: str,
        cancel_url: str,
        expires_at: datetime,
        idempotency_key: str,
    ) -> Checkout:
        metadata = {"booking_id": booking_id, "show_id": show_id}
        form: dict[str, Any] = {
            "mode": "payment",
            "line_items[0][price_data][currency]": currency.lower(),
            "line_items[0][price_data][unit_amount]": str(amount),
            "line_items[0][price_data][product_data][name]": description,
            "line_items[0][quantity]": "1",
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": str(int(expires_at.timestamp())),
            "client_reference_id": booking_id,
        }
        for key, value in metadata.items():
            form[f"metadata[{key}]"] = value
            form[f"payment_intent_data[metadata][{key}]"] = value  # a refund's charge carries them too
        session = self._json(await self._post("/v1/checkout/sessions", form, idempotency_key), "create a checkout")
        return Checkout(session["id"], session["url"])

    async def void(self, checkout_id: str, idempotency_key: str) -> bool:
        response = await self._post(f"/v1/checkout/sessions/{checkout_id}/expire", {}, idempotency_key)
        if response.status_code < 300:
            return True
        # Only an open session can be expired: one that completed was paid (its refund follows its notice).
        session = self._json(await self._get(f"/v1/checkout/sessions/{checkout_id}"), "read a checkout")
        if session.get("status") == "complete":
            return False
        if session.get("status") == "expired":
            return True
        raise ProviderError(f"void {checkout_id}: HTTP {response.status_code}: {response.text[:300]}")

    async def _get(self, path: str) -> httpx.Response:
        try:
            return await self._http.get(path)
        except httpx.HTTPError as exc:
            raise ProviderError(f"{self.name}: {path}: {exc!r}") from exc

    async def refund(self, payment_id: str, amount: int, idempotency_key: str) -> str:
        form = {"payment_intent": payment_id, "amount": str(amount)}
        refund = self._json(await self._post("/v1/refunds", form, idempotency_key), "refund")
        return str(refund["id"])

    def read_webhook(self, body: bytes, headers: Mapping[str, str], now: float) -> PaymentNotice | None:
        header = headers.get(SIGNATURE_HEADER)
        if not header:
            raise WebhookRefused("invalid_signature", f"no {SIGNATURE_HEADER} header")
        verify_signature(self._secret, body, header, now, self._tolerance_s)
        return read_event(body)

    async def close(self) -> None:
        await self._http.aclose()
