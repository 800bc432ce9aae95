"""A booking's payment as the processor decides it, and the settlements it asks of the provider.

`Payment` rides on the booking (its events, its view): the checkout opened for the hold (`open`), the money
taken (`paid`, which confirms the booking), a void asked for an unpaid checkout whose hold ended
(`void_requested`), a refund asked (`refund_requested`: a cancellation within the show's terms, or money that
came for seats the booking no longer holds) and done (`refunded`). A `Settlement` on an event is work for the
provider (void or refund), carried out once by the notifier's `payment` channel (notifier/dispatcher.py) with
an idempotency key derived from the event.
"""

from __future__ import annotations

from typing import Literal

import msgspec

PaymentStatus = Literal["open", "paid", "void_requested", "refund_requested", "refunded"]


class Payment(msgspec.Struct, frozen=True, omit_defaults=True):
    provider: str
    checkout_id: str
    status: PaymentStatus
    amount: int  # minor units of `currency`: the booking's total when the checkout opened
    currency: str
    payment_id: str | None = None  # the provider's payment, once paid
    refund_amount: int = 0  # asked for (refund_requested) or done (refunded)


class Settlement(msgspec.Struct, frozen=True):
    action: Literal["void", "refund"]
    provider: str
    checkout_id: str
    payment_id: str | None  # refund: the payment refunded
    amount: int  # refund: minor units given back; void: 0
    currency: str
    reason: str  # why: hold_expired, cancelled, late_payment, amount_mismatch, paid_twice, ...
    # The provider's idempotency key when the settlement is about the payment itself, not about this event: a
    # full refund of money the booking does not keep is the same refund however many notices of it came.
    key: str | None = None
