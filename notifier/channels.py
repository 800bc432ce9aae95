"""Delivery channels. Email goes through a real SMTP server (smtplib in a small thread pool); the webhook
is a JSON POST signed with HMAC-SHA256 over the body (header X-Boxoffice-Signature: sha256=<hex>), with an
Idempotency-Key derived from the event (as an email's Message-ID is)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import smtplib
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

import httpx
import msgspec

from payments.provider import PaymentProvider, ProviderError
from schemas.events import BookingEvent
from schemas.notifications import WebhookPayload

SIGNATURE_HEADER = "X-Boxoffice-Signature"


class DeliveryError(Exception):
    pass


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(sign(secret, body), header)


class SmtpChannel:
    def __init__(self, host: str, port: int, timeout: float = 10.0, workers: int = 32) -> None:
        self._host, self._port, self._timeout = host, port, timeout
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smtp")

    def _send_blocking(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"smtp {self._host}:{self._port}: {exc!r}") from None

    async def send(self, message: EmailMessage) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self._send_blocking, message)

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class WebhookChannel:
    def __init__(self, url: str, secret: str, timeout: float = 5.0) -> None:
        self._url, self._secret = url, secret
        self._client = httpx.AsyncClient(timeout=timeout)

    async def send(self, body: WebhookPayload, idempotency_key: str) -> None:
        """`idempotency_key` is derived from the event: the same for every attempt of one notification, so a
        receiver can drop the rare repeat a crash between sending and recording may cause."""
        raw = msgspec.json.encode(body)
        try:
            response = await self._client.post(
                self._url,
                content=raw,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign(self._secret, raw),
                    "Idempotency-Key": idempotency_key,
                },
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {self._url}: {exc!r}") from None
        if response.status_code >= 300:
            raise DeliveryError(f"webhook {self._url}: HTTP {response.status_code}")

    async def close(self) -> None:
        await self._client.aclose()


class PaymentChannel:
    """The provider's side of a booking event's settlement (schemas/payments.py): void a checkout or refund a
    payment through the adapter, with an idempotency key derived from the event, so the rare repeat a crash
    may cause voids or refunds once at the provider."""

    def __init__(self, provider: PaymentProvider) -> None:
        self._provider = provider

    async def send(self, event: BookingEvent) -> None:
        settle = event.settle
        if settle is None:
            return
        if settle.provider != self._provider.name:
            raise DeliveryError(f"no adapter here for provider {settle.provider!r} (this one is {self._provider.name})")
        key = settle.key or f"{event.event_id}/{settle.action}"
        try:
            if settle.action == "void":
                await self._provider.void(settle.checkout_id, key)  # False: paid meanwhile, its refund follows
            elif settle.payment_id is not None:
                await self._provider.refund(settle.payment_id, settle.amount, key)
        except ProviderError as exc:
            raise DeliveryError(str(exc)) from None

    async def close(self) -> None:
        await self._provider.close()
