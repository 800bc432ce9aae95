"""Consumes booking.events and sends each notification once.

Once: the (event_id, channel) row in PostgreSQL is claimed before sending and marked `sent` after, so a
redelivered or replayed event finds it sent and is skipped. A crash between the send and the mark can
repeat that one message; its Message-ID is the event id, so a receiver can drop it.
Failures retry with exponential backoff and jitter; after the last attempt the notification goes to
booking.notifications.dlq with the error and is marked `dead`. Events are handled concurrently, so one
slow or failing notification holds up no other; bookings never wait for any of it.
"""
from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import orjson
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import Counter

from notifier.channels import DeliveryError, SmtpChannel, WebhookChannel
from notifier.messages import NOTIFIED, email_for, webhook_body
from runtime.lifecycle import Lifecycle
from schemas import topics
from schemas.events import decode_event
from schemas.validation import SchemaError

log = structlog.get_logger()
NOTIFICATIONS = Counter("boxoffice_notifications_total", "Notifications by channel and outcome",
                        ["channel", "outcome"])


class Dispatcher:
    def __init__(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, pool: asyncpg.Pool,
                 smtp: SmtpChannel, webhook: WebhookChannel | None, sender: str, max_attempts: int,
                 backoff_s: float, lifecycle: Lifecycle, concurrency: int = 64) -> None:
        self._consumer, self._producer, self._pool = consumer, producer, pool
        self._smtp, self._webhook, self._sender = smtp, webhook, sender
        self._max_attempts, self._backoff_s, self._lifecycle = max_attempts, backoff_s, lifecycle
        self._slots = asyncio.Semaphore(concurrency)

    async def run(self) -> None:
        while not self._lifecycle.stopping.is_set():
            batches = await self._consumer.getmany(timeout_ms=200, max_records=500)
            records = [r for rs in batches.values() for r in rs]
            if not records:
                continue
            await asyncio.gather(*[self._handle(r) for r in records])
            await self._consumer.commit()

    async def _handle(self, record) -> None:
        try:
            event = decode_event(record.value)
        except SchemaError as exc:
            log.error("undecodable event skipped", offset=record.offset, error=str(exc))
            return
        if event["type"] not in NOTIFIED:
            return
        jobs: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        message = email_for(event, self._sender)
        if message is not None:
            jobs.append(("email", lambda: self._smtp.send(message)))
        if self._webhook is not None and event.get("phone"):  # the SMS channel: customers with a phone
            webhook = self._webhook
            jobs.append(("webhook", lambda: webhook.send(webhook_body(event))))
        for channel, send in jobs:
            async with self._slots:
                await self._deliver_once(event, channel, send)

    async def _deliver_once(self, event: dict[str, Any], channel: str,
                            send: Callable[[], Awaitable[None]]) -> None:
        event_id = event["event_id"]
        status = await self._pool.fetchval(
            """INSERT INTO notifications (event_id, channel, status) VALUES ($1, $2, 'sending')
               ON CONFLICT (event_id, channel) DO UPDATE SET status = notifications.status
               RETURNING status""",
            event_id, channel,
        )
        if status != "sending":
            NOTIFICATIONS.labels(channel, "duplicate_skipped").inc()
            return
        error = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                await send()
                await self._pool.execute(
                    """UPDATE notifications SET status = 'sent', attempts = $3, sent_at = now(), last_error = NULL
                       WHERE event_id = $1 AND channel = $2""", event_id, channel, attempt)
                NOTIFICATIONS.labels(channel, "sent").inc()
                return
            except DeliveryError as exc:
                error = str(exc)
                NOTIFICATIONS.labels(channel, "attempt_failed").inc()
                log.warning("notification failed", channel=channel, event_id=event_id, attempt=attempt, error=error)
                await self._pool.execute(
                    "UPDATE notifications SET attempts = $3, last_error = $4 WHERE event_id = $1 AND channel = $2",
                    event_id, channel, attempt, error)
                if attempt < self._max_attempts:
                    delay = self._backoff_s * (2 ** (attempt - 1)) * random.uniform(0.5, 1.5)
                    await asyncio.sleep(delay)
        await self._producer.send_and_wait(
            topics.NOTIFICATIONS_DLQ,
            orjson.dumps({"event_id": event_id, "channel": channel, "error": error, "event": event}),
            key=event["show_id"].encode(),
            headers=[("error", error.encode()), ("channel", channel.encode())],
        )
        await self._pool.execute(
            "UPDATE notifications SET status = 'dead' WHERE event_id = $1 AND channel = $2", event_id, channel)
        NOTIFICATIONS.labels(channel, "dead_lettered").inc()
        log.error("notification dead-lettered", channel=channel, event_id=event_id, error=error)
