"""What boxoffice needs of a payment provider, as one interface: a hosted checkout for a hold's total, voiding
a checkout nobody paid, refunding a payment, and reading the provider's signed webhooks. `payments/stripe.py`
is the adapter for Stripe's API (Checkout Sessions, Refunds, `Stripe-Signature` webhooks); the development
provider (`payments/devprovider.py`, started by `make up`) speaks the same API in test mode, so the local stack
runs the very adapter production would."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal, Protocol

import msgspec


class ProviderError(Exception):
    """The provider refused or did not answer: retry later (nothing is assumed to have happened)."""


class WebhookRefused(Exception):
    """A webhook that is not the provider's (bad signature), too old or too new (a replay), or unreadable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Checkout(msgspec.Struct, frozen=True):
    checkout_id: str
    url: str  # where the buyer pays (the provider's page)


class PaymentNotice(msgspec.Struct, frozen=True):
    """A webhook, read: `paid` (money taken for a booking's checkout), `refunded` (money given back), or
    `expired` (a checkout ended unpaid)."""

    event_id: str  # the provider's: a redelivery carries the same
    kind: Literal["paid", "refunded", "expired"]
    booking_id: str
    show_id: str
    checkout_id: str
    payment_id: str | None
    amount: int  # minor units (refunded: the total refunded so far)
    currency: str  # ISO 4217, upper case


class PaymentProvider(Protocol):
    name: str  # the `{provider}` of POST /v1/payments/webhook/{provider}

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
    ) -> Checkout: ...

    async def void(self, checkout_id: str, idempotency_key: str) -> bool:
        """End an unpaid checkout; False when it was paid already (its refund follows its `paid` notice)."""
        ...

    async def refund(self, payment_id: str, amount: int, idempotency_key: str) -> str:
        """Refund `amount` of a payment; the refund's id. The same key refunds once."""
        ...

    def read_webhook(self, body: bytes, headers: Mapping[str, str], now: float) -> PaymentNotice | None:
        """The notice a signed webhook carries; None for an event type boxoffice does not act on; WebhookRefused
        when the signature, its timestamp or the body is wrong."""
        ...

    async def close(self) -> None: ...
