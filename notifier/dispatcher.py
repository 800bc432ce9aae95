"""Consumes booking.events and sends each notification once; retries come from PostgreSQL.

Once: the (event_id, channel) row is claimed before sending and marked `sent` after, so a redelivered or
replayed event finds it sent and is skipped. A crash between the send and the mark can repeat that one
message; its Message-ID is the event id, so a receiver can drop it.

Nothing waits for a slow or failing delivery. The consumer makes each notification's first attempt in the
background (at most `concurrency` at a time) and commits an offset only once every event before it was
handled: sent, skipped, or scheduled for a retry. A failed attempt is scheduled in its row
(`next_attempt_at`, exponential backoff with jitter, the event kept in `payload`), and the retry loop takes
due rows (`FOR UPDATE SKIP LOCKED`, leased while in progress) until the last attempt, after which the
notification goes to booking.notifications.dlq and the row is marked `dead`. A restart loses no retry, and
a SIGTERM waits for no backoff. PostgreSQL or Kafka going away is transient: the work is retried.
"""
from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import msgspec
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import Counter

from notifier.channels import DeliveryError, SmtpChannel, WebhookChannel
from notifier.messages import NOTIFIED, email_for, webhook_body
from runtime.lifecycle import Lifecycle
from runtime.shards import Shards, partition_of
from runtime.transient import Backoff, is_transient
from schemas import topics
from schemas.events import BookingEvent, decode_event, encode_event
from schemas.validation import SchemaError

log = structlog.get_logger()


class PartitionMoving(Exception):
    """The event's partition is being copied to another shard: its notification rows wait for the switch."""
NOTIFICATIONS = Counter("boxoffice_notifications_total", "Notifications by channel and outcome",
                        ["channel", "outcome"])
LEASE_S = 60  # a delivery in progress keeps its row this long (then anyone may retry it)
RETRY_POLL_S = 0.5
STOP_GRACE_S = 5.0
MAX_IN_FLIGHT = 2000


class _Addressed(msgspec.Struct):
    type: str
    email: str | None = None
    phone: str | None = None


_addressed = msgspec.json.Decoder(_Addressed)
NOTIFIED_TYPES = frozenset(kind.__struct_config__.tag for kind in NOTIFIED)


@dataclass(frozen=True)
class Delivery:
    event: BookingEvent
    channel: str


class _Offsets:
    """Per partition: offsets handed out and not yet handled; what may be committed is the lowest of them."""

    def __init__(self) -> None:
        self.pending: dict[TopicPartition, set[int]] = {}
        self.seen: dict[TopicPartition, int] = {}

    def add(self, tp: TopicPartition, offset: int) -> None:
        self.pending.setdefault(tp, set()).add(offset)
        self.seen[tp] = max(self.seen.get(tp, -1), offset)

    def done(self, tp: TopicPartition, offset: int) -> None:
        self.pending.get(tp, set()).discard(offset)

    def committable(self) -> dict[TopicPartition, int]:
        return {tp: (min(self.pending[tp]) if self.pending.get(tp) else last + 1) for tp, last in self.seen.items()}

    def forget(self, tps) -> None:
        for tp in tps:
            self.pending.pop(tp, None)
            self.seen.pop(tp, None)


class Dispatcher:
    def __init__(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, shards: Shards,
                 smtp: SmtpChannel, webhook: WebhookChannel | None, sender: str, max_attempts: int,
                 backoff_s: float, lifecycle: Lifecycle, concurrency: int = 64) -> None:
        self._consumer, self._producer, self._shards = consumer, producer, shards
        self._smtp, self._webhook, self._sender = smtp, webhook, sender
        self._max_attempts, self._backoff_s, self._lifecycle = max_attempts, backoff_s, lifecycle
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task] = set()
        self._offsets = _Offsets()
        self._committed: dict[TopicPartition, int] = {}
        self._failure: BaseException | None = None

    # ------------------------------------------------------------------ loops
    async def run(self) -> None:
        retries = asyncio.create_task(self._retry_forever())
        retries.add_done_callback(self._failed)
        try:
            await self._consume_forever()
        finally:
            retries.cancel()
            if self._tasks:  # first attempts in flight: a short grace, then their leases cover them
                await asyncio.wait(self._tasks, timeout=STOP_GRACE_S)
            await self._commit()
            for task in self._tasks:
                task.cancel()
        if self._failure is not None:  # a defect in a task: the process exits and says so
            raise self._failure

    async def _consume_forever(self) -> None:
        backoff = Backoff()
        while not self._lifecycle.stopping.is_set():
            if len(self._tasks) >= MAX_IN_FLIGHT:  # fetch no further ahead than the deliveries go
                await asyncio.sleep(0.05)
                continue
            batches = await self._consumer.getmany(timeout_ms=200, max_records=500)
            for tp, records in batches.items():
                for record in records:
                    self._offsets.add(tp, record.offset)
                    self._spawn(self._handle(tp, record))
            try:
                await self._commit()
                backoff.reset()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                await self._lifecycle.sleep(backoff.next())

    async def _commit(self) -> None:
        assigned = self._consumer.assignment()
        offsets = {tp: o for tp, o in self._offsets.committable().items()
                   if tp in assigned and self._committed.get(tp) != o}
        self._offsets.forget([tp for tp in self._offsets.seen if tp not in assigned])
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
            self._committed.update(offsets)
        except KafkaError as exc:  # a rebalance or the broker: those events are handled again (no-ops)
            log.warning("offset commit failed", error=repr(exc))

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(self._failed)

    def _failed(self, task: asyncio.Task) -> None:
        """A task that raised is a defect (transient failures are retried inside): its offset would never be
        committed again, so stop the process rather than go on silently."""
        if task.cancelled() or task.exception() is None:
            return
        log.error("notifier task failed; stopping", error=repr(task.exception()))
        if self._failure is None:
            self._failure = task.exception()
        self._lifecycle.stop()

    async def _retry_forever(self) -> None:
        while not self._lifecycle.stopping.is_set():
            try:
                due = await self._take_due()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("cannot read due notifications, retrying", error=repr(exc))
                due = []
            for attempts, delivery in due:
                self._spawn(self._attempt(delivery, attempts))
            if not due and await self._lifecycle.sleep(RETRY_POLL_S):
                return

    # ------------------------------------------------------------------ work
    def _wanted(self, raw: bytes) -> bool:
        """Whether an event may notify anyone: read from three fields, before decoding the whole event (most
        events of an on-sale reach nobody: no address on the booking, or not a kind that notifies)."""
        try:
            head = _addressed.decode(raw)
        except msgspec.DecodeError:
            return True  # let the full decoding say what is wrong
        return head.type in NOTIFIED_TYPES and bool(head.email or (self._webhook is not None and head.phone))

    async def _handle(self, tp: TopicPartition, record) -> None:
        event = None
        if self._wanted(record.value):
            try:
                event = decode_event(record.value)
            except SchemaError as exc:
                log.error("undecodable event skipped", offset=record.offset, error=str(exc))
        if isinstance(event, NOTIFIED):
            channels = ["email"] if event.email else []
            if self._webhook is not None and event.phone:  # the SMS channel: customers with a phone
                channels.append("webhook")
            for channel in channels:
                delivery = Delivery(event, channel)
                attempts = await self._until_done(lambda d=delivery: self._claim(d))
                if attempts is None:
                    return  # stopping: not handled, its offset is not committed
                if attempts < 0:
                    NOTIFICATIONS.labels(channel, "duplicate_skipped").inc()
                    continue
                if not await self._attempt(delivery, attempts):
                    return
        self._offsets.done(tp, record.offset)

    async def _attempt(self, delivery: Delivery, attempts: int) -> bool:
        """One delivery attempt, then its outcome recorded (retried while PostgreSQL or Kafka is away: the
        message is never sent twice for that). False when stopping before the outcome was recorded (the
        lease makes the row due again later)."""
        async with self._slots:
            try:
                await self._send(delivery)
                error = None
            except DeliveryError as exc:
                error = str(exc)
        return await self._until_done(lambda: self._record(delivery, attempts + 1, error)) is not None

    def _pool(self, show_id: str) -> asyncpg.Pool:
        """The notification rows of an event live on its show's shard (they move with its partition)."""
        partition = partition_of(show_id)
        if partition in self._shards.map.moving:
            raise PartitionMoving(f"partition {partition} is moving to another shard")
        return self._shards.primary_for_partition(partition)

    async def _until_done(self, work: Callable[[], Awaitable]):
        """Run `work` until PostgreSQL/Kafka answer (and a moving partition has landed); None when stopping
        first."""
        backoff = Backoff()
        while True:
            try:
                return await work()
            except Exception as exc:
                if not (is_transient(exc) or isinstance(exc, PartitionMoving)):
                    raise
                delay = backoff.next()
                log.warning("notification bookkeeping unavailable, retrying", error=repr(exc), delay=delay)
                if await self._lifecycle.sleep(delay):
                    return None

    async def _claim(self, delivery: Delivery) -> int:
        """Attempts made so far when this process may deliver now; -1 when it is sent, dead, or in other
        hands (leased, or scheduled for the retry loop)."""
        event = delivery.event
        attempts = await self._pool(event.show_id).fetchval(
            """INSERT INTO notifications (event_id, channel, status, payload, next_attempt_at, partition)
               VALUES ($1, $2, 'sending', $3, now() + make_interval(secs => $4), $5)
               ON CONFLICT (event_id, channel) DO UPDATE
                 SET next_attempt_at = EXCLUDED.next_attempt_at,
                     payload = coalesce(notifications.payload, EXCLUDED.payload)
                 WHERE notifications.status = 'sending'
                   AND (notifications.next_attempt_at IS NULL OR notifications.next_attempt_at <= now())
               RETURNING attempts""",
            event.event_id, delivery.channel, encode_event(event), LEASE_S, partition_of(event.show_id))
        return -1 if attempts is None else attempts

    async def _take_due(self) -> list[tuple[int, Delivery]]:
        rows = []
        for shard, pool in enumerate(self._shards.primaries):  # each shard's due rows, of its own partitions
            rows += await pool.fetch(
                """UPDATE notifications n SET next_attempt_at = now() + make_interval(secs => $1)
                   FROM (SELECT event_id, channel FROM notifications
                         WHERE status = 'sending' AND next_attempt_at <= now() AND payload IS NOT NULL
                           AND (partition = ANY($2::smallint[]) OR partition IS NULL)
                         ORDER BY next_attempt_at LIMIT 100 FOR UPDATE SKIP LOCKED) due
                   WHERE n.event_id = due.event_id AND n.channel = due.channel
                   RETURNING n.channel, n.attempts, n.payload""", LEASE_S, self._shards.map.owned(shard))
        due = []
        for row in rows:
            event = decode_event(row["payload"])
            if isinstance(event, NOTIFIED):
                due.append((row["attempts"], Delivery(event, row["channel"])))
        return due

    async def _record(self, delivery: Delivery, attempt: int, error: str | None) -> bool:
        event, channel = delivery.event, delivery.channel
        if error is None:
            await self._pool(event.show_id).execute(
                """UPDATE notifications SET status = 'sent', attempts = $3, sent_at = now(), last_error = NULL,
                          next_attempt_at = NULL WHERE event_id = $1 AND channel = $2""",
                event.event_id, channel, attempt)
            NOTIFICATIONS.labels(channel, "sent").inc()
            return True
        NOTIFICATIONS.labels(channel, "attempt_failed").inc()
        log.warning("notification failed", channel=channel, event_id=event.event_id, attempt=attempt, error=error)
        if attempt >= self._max_attempts:
            await self._dead_letter(delivery, attempt, error)
            return True
        delay = self._backoff_s * (2 ** (attempt - 1)) * random.uniform(0.5, 1.5)
        await self._pool(event.show_id).execute(
            """UPDATE notifications SET attempts = $3, last_error = $4,
                      next_attempt_at = now() + make_interval(secs => $5)
               WHERE event_id = $1 AND channel = $2""", event.event_id, channel, attempt, error, delay)
        return True

    async def _send(self, delivery: Delivery) -> None:
        if delivery.channel == "email":
            message = email_for(delivery.event, self._sender)
            await self._smtp.send(message)
        elif self._webhook is not None:
            await self._webhook.send(webhook_body(delivery.event))
        else:
            raise DeliveryError("webhook channel is not configured in this process")

    async def _dead_letter(self, delivery: Delivery, attempts: int, error: str) -> None:
        event = delivery.event
        await self._producer.send_and_wait(
            topics.NOTIFICATIONS_DLQ,
            msgspec.json.encode({"event_id": event.event_id, "channel": delivery.channel, "error": error,
                                 "event": event}),
            key=event.show_id.encode(),
            headers=[("error", error.encode()), ("channel", delivery.channel.encode())],
        )
        await self._pool(event.show_id).execute(
            """UPDATE notifications SET status = 'dead', attempts = $3, last_error = $4, next_attempt_at = NULL
               WHERE event_id = $1 AND channel = $2""", event.event_id, delivery.channel, attempts, error)
        NOTIFICATIONS.labels(delivery.channel, "dead_lettered").inc()
        log.error("notification dead-lettered", channel=delivery.channel, event_id=event.event_id, error=error)
