"""Consumes booking.events and sends each notification once; retries come from PostgreSQL.

Once: a delivery is claimed in its (event_id, channel) row right before it is sent and marked `sent` right
after (notifier/ledger.py). A delivery is never sent unless its bookkeeping answered a moment before: every
send follows a successful claim (or, for a retry, a renewal of its lease) on the show's shard, so while that
shard's PostgreSQL is away nothing new goes out for it. A delivery sent but not yet recorded is kept in hand
and recorded as soon as PostgreSQL answers; the retry loop leaves such deliveries alone. A crash can then
repeat only the deliveries in flight at that instant (at most `concurrency`, the
`boxoffice_notifier_deliveries_in_flight` gauge), when their lease runs out; every email's Message-ID and
every webhook's Idempotency-Key is derived from the event, so a receiver can drop that rare repeat.

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
from datetime import datetime
from typing import Protocol

import msgspec
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge

from notifier.channels import DeliveryError, PaymentChannel, SmtpChannel, WebhookChannel
from notifier.ledger import Claim, Due, PartitionMoving
from notifier.messages import NOTIFIED, email_for, webhook_body
from notifier.offsets import Offsets
from runtime.commit_pace import CommitPace
from runtime.lifecycle import Lifecycle
from runtime.retry import Retry, Stopped
from runtime.transient import is_transient
from schemas import topics
from schemas.events import BookingEvent, decode_event
from schemas.validation import SchemaError

log = structlog.get_logger()


class DeliveryCrashed(Exception):
    """A send failed in a way the channel does not know (a defect): never retried, the process stops."""


NOTIFICATIONS = Counter("boxoffice_notifications_total", "Notifications by channel and outcome", ["channel", "outcome"])
IN_FLIGHT = Gauge(
    "boxoffice_notifier_deliveries_in_flight",
    "Deliveries claimed and not yet recorded (sent or not): the most a crash now could repeat",
)
UNRECORDED = Gauge(
    "boxoffice_notifier_deliveries_unrecorded",
    "Deliveries sent whose outcome PostgreSQL has not taken yet (kept in hand until it does)",
)
RETRY_POLL_S = 0.5
STOP_GRACE_S = 5.0
MAX_IN_FLIGHT = 2000


class _Addressed(msgspec.Struct):
    type: str
    email: str | None = None
    phone: str | None = None
    settle: dict | None = None


_addressed = msgspec.json.Decoder(_Addressed)
NOTIFIED_TYPES = frozenset(kind.__struct_config__.tag for kind in NOTIFIED)
SETTLEMENT_ATTEMPTS = 40  # a void or refund at the provider: with the backoff below, about a day of attempts
SETTLEMENT_MAX_DELAY_S = 3600.0


class Ledger(Protocol):
    """The bookkeeping the dispatcher needs (notifier/ledger.py: PgLedger; an in-memory twin in unit tests)."""

    shards: int

    async def claim(self, event: BookingEvent, channel: str, lease_s: float) -> Claim | None: ...
    async def renew(self, event: BookingEvent, channel: str, lease: datetime, lease_s: float) -> Claim | None: ...
    async def take_due(self, shard: int, lease_s: float, limit: int = 100) -> list[Due]: ...
    async def mark_sent(self, event: BookingEvent, channel: str, attempts: int) -> None: ...
    async def schedule_retry(
        self, event: BookingEvent, channel: str, attempts: int, error: str, delay_s: float
    ) -> None: ...
    async def mark_dead(self, event: BookingEvent, channel: str, attempts: int, error: str) -> None: ...


@dataclass(frozen=True)
class Delivery:
    event: BookingEvent
    channel: str

    @property
    def key(self) -> tuple[str, str]:
        return self.event.event_id, self.channel


class Dispatcher:
    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        ledger: Ledger,
        smtp: SmtpChannel,
        webhook: WebhookChannel | None,
        sender: str,
        max_attempts: int,
        backoff_s: float,
        lifecycle: Lifecycle,
        concurrency: int = 32,
        lease_s: float = 60.0,
        burst: bool = False,
        stop_grace_s: float = STOP_GRACE_S,
        payments: PaymentChannel | None = None,
        public_url: str = "",
    ) -> None:
        self._consumer, self._producer, self._ledger = consumer, producer, ledger
        self._smtp, self._webhook, self._sender = smtp, webhook, sender
        self._payments = payments
        self._public_url = public_url
        self._max_attempts, self._backoff_s, self._lifecycle = max_attempts, backoff_s, lifecycle
        self._lease_s = lease_s  # a delivery in progress keeps its row this long (then anyone may retry it)
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task] = set()
        self._offsets = Offsets()
        self._committed: dict[TopicPartition, int] = {}
        self._pace = CommitPace()  # at most once a second under load, at once when a fetch finds nothing
        self._claimed: set[tuple[str, str]] = set()  # claimed here, outcome not recorded yet
        self._unrecorded: set[tuple[str, str]] = set()  # of those, sent already
        self._failure: BaseException | None = None
        self._burst, self._stop_grace_s = burst, stop_grace_s
        self._due_unreadable: dict[int, str] = {}  # shard -> the kind of error its due rows last met
        self._takes = Retry("notification bookkeeping (nothing sent meanwhile)", lifecycle, also=(PartitionMoving,))
        self._records = Retry("notification outcome (kept in hand)", None, also=(PartitionMoving,))

    # ------------------------------------------------------------------ loops
    async def run(self) -> None:
        retries = asyncio.create_task(self._retry_forever())
        retries.add_done_callback(self._failed)
        try:
            await self._consume_forever()
        finally:
            retries.cancel()
            if self._tasks:  # deliveries in flight record their outcome within a short grace
                await asyncio.wait(self._tasks, timeout=self._stop_grace_s)
            await self._commit()
            for task in self._tasks:
                task.cancel()
            if self._unrecorded:
                log.error(
                    "stopping with deliveries sent but not recorded: their lease makes them due again",
                    deliveries=len(self._unrecorded),
                )
        if self._failure is not None:  # a defect in a task: the process exits and says so
            raise self._failure

    async def _consume_forever(self) -> None:
        commits = Retry("notifier offset commit", self._lifecycle)
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
                if self._pace.due(fetched=bool(batches)):
                    await commits.run(self._commit)
            except Stopped:
                return
            if self._burst and not batches and not self._tasks:
                return

    async def _commit(self) -> None:
        assigned = self._consumer.assignment()
        offsets = {
            tp: o for tp, o in self._offsets.committable().items() if tp in assigned and self._committed.get(tp) != o
        }
        self._offsets.forget([tp for tp in self._offsets.seen if tp not in assigned])
        if not offsets:
            return
        try:
            await self._pace.commit(self._consumer, offsets)  # bounded (runtime/commit_pace.py)
            self._committed.update(offsets)
        except (KafkaError, TimeoutError) as exc:  # a rebalance, the broker: those events are handled again (no-ops)
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
            due = await self._take_due()
            for lease, delivery in due:
                self._spawn(self._deliver(delivery, lambda d=delivery, token=lease: self._renew(d, token)))
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
        if head.settle is not None and self._payments is not None:
            return True
        return head.type in NOTIFIED_TYPES and bool(head.email or (self._webhook is not None and head.phone))

    async def _handle(self, tp: TopicPartition, record) -> None:
        event = None
        if self._wanted(record.value):
            try:
                event = decode_event(record.value)
            except SchemaError as exc:
                log.error("undecodable event skipped", offset=record.offset, error=str(exc))
        channels: list[str] = []
        if isinstance(event, NOTIFIED):
            channels += ["email"] if event.email else []
            if self._webhook is not None and event.phone:  # the SMS channel: customers with a phone
                channels.append("webhook")
        if isinstance(event, BookingEvent) and event.settle is not None and self._payments is not None:
            channels.append("payment")  # void or refund at the provider, once, like a notification
        if isinstance(event, BookingEvent):
            for channel in channels:
                delivery = Delivery(event, channel)
                if not await self._deliver(delivery, lambda d=delivery: self._claim(d)):
                    return  # stopping: not handled, its offset is not committed
        self._offsets.done(tp, record.offset)

    async def _deliver(self, delivery: Delivery, take: Callable[[], Awaitable[Claim | None]]) -> bool:
        """Take the delivery (`take`: a first claim or a retry's renewal) and send it at once, inside one of
        the `concurrency` slots; then record the outcome, retried until PostgreSQL takes it. A take that fails
        gives its slot back while the one retry primitive waits (a shard that is away stalls no other shard's
        mail). True when handled (recorded, or in other hands); False when stopping first."""

        async def attempt() -> tuple[Claim, str | None] | None:
            async with self._slots:
                claim = await take()  # transient failures are retried from here, nothing sent
                if claim is None:
                    return None
                self._hold(delivery)
                try:
                    failure = await self._send(delivery)
                except Exception as exc:  # never retried: the message may have gone out
                    raise DeliveryCrashed(repr(exc)) from exc
                if failure is None:
                    self._unrecorded.add(delivery.key)
                    UNRECORDED.set(len(self._unrecorded))
                return claim, failure

        try:
            taken = await self._takes.run(attempt)
        except Stopped:
            return False
        if taken is None:
            NOTIFICATIONS.labels(delivery.channel, "duplicate_skipped").inc()
            return True
        claim, failure = taken
        try:
            # Not cut short by a SIGTERM (the stop's grace lets it finish; then the task is cancelled and the
            # lease makes the delivery due again).
            await self._records.run(lambda: self._record(delivery, claim.attempts + 1, failure))
        finally:
            self._release(delivery)
        return True

    def _hold(self, delivery: Delivery) -> None:
        self._claimed.add(delivery.key)
        IN_FLIGHT.set(len(self._claimed))

    def _release(self, delivery: Delivery) -> None:
        self._claimed.discard(delivery.key)
        self._unrecorded.discard(delivery.key)
        IN_FLIGHT.set(len(self._claimed))
        UNRECORDED.set(len(self._unrecorded))

    async def _claim(self, delivery: Delivery) -> Claim | None:
        event = delivery.event
        return await self._ledger.claim(event, delivery.channel, self._lease_s)

    async def _renew(self, delivery: Delivery, lease: datetime) -> Claim | None:
        return await self._ledger.renew(delivery.event, delivery.channel, lease, self._lease_s)

    async def _take_due(self) -> list[tuple[datetime, Delivery]]:
        """Each shard's due rows, of its own partitions; a shard that does not answer is skipped this time.
        Deliveries this process holds (sent, outcome not recorded yet) are left alone: their record is in
        hand, and sending them again would be the duplicate the lease is there to prevent."""
        due = []
        for shard in range(self._ledger.shards):
            try:
                rows = await self._ledger.take_due(shard, self._lease_s)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if self._due_unreadable.get(shard) != type(exc).__name__:  # once per kind until it answers
                    self._due_unreadable[shard] = type(exc).__name__
                    log.warning("cannot read due notifications, skipping the shard", shard=shard, error=repr(exc))
                continue
            self._due_unreadable.pop(shard, None)
            for row in rows:
                if (row.event_id, row.channel) in self._claimed:
                    continue
                event = decode_event(row.payload)
                # a notification's retry, or a settlement's (any booking event may carry one: a refund)
                if isinstance(event, NOTIFIED) or (isinstance(event, BookingEvent) and row.channel == "payment"):
                    due.append((row.lease, Delivery(event, row.channel)))
        return due

    async def _record(self, delivery: Delivery, attempt: int, error: str | None) -> None:
        event, channel = delivery.event, delivery.channel
        if error is None:
            await self._ledger.mark_sent(event, channel, attempt)
            NOTIFICATIONS.labels(channel, "sent").inc()
            return
        NOTIFICATIONS.labels(channel, "attempt_failed").inc()
        log.warning("notification failed", channel=channel, event_id=event.event_id, attempt=attempt, error=error)
        # Money is not given up on after a few seconds: a settlement is retried for about a day (the provider's
        # idempotency key makes every attempt the same one), backing off to an hour between attempts.
        settlement = channel == "payment"
        if attempt >= (SETTLEMENT_ATTEMPTS if settlement else self._max_attempts):
            await self._dead_letter(delivery, attempt, error)
            return
        delay = self._backoff_s * (2 ** min(attempt - 1, 20)) * random.uniform(0.5, 1.5)
        if settlement:
            delay = min(delay, SETTLEMENT_MAX_DELAY_S)
        await self._ledger.schedule_retry(event, channel, attempt, error, delay)

    async def _send(self, delivery: Delivery) -> str | None:
        """One attempt; the error when it failed."""
        try:
            if delivery.channel == "email":
                await self._smtp.send(email_for(delivery.event, self._sender, self._public_url))
            elif delivery.channel == "payment":
                if self._payments is None:
                    raise DeliveryError("no payment provider is configured in this process")
                await self._payments.send(delivery.event)
            elif self._webhook is not None:
                await self._webhook.send(
                    webhook_body(delivery.event), idempotency_key=f"{delivery.event.event_id}/webhook"
                )
            else:
                raise DeliveryError("webhook channel is not configured in this process")
        except DeliveryError as exc:
            return str(exc)
        return None

    async def _dead_letter(self, delivery: Delivery, attempts: int, error: str) -> None:
        event = delivery.event
        await self._producer.send_and_wait(
            topics.NOTIFICATIONS_DLQ,
            msgspec.json.encode(
                {"event_id": event.event_id, "channel": delivery.channel, "error": error, "event": event}
            ),
            key=event.show_id.encode(),
            headers=[("error", error.encode()), ("channel", delivery.channel.encode())],
        )
        await self._ledger.mark_dead(event, delivery.channel, attempts, error)
        NOTIFICATIONS.labels(delivery.channel, "dead_lettered").inc()
        log.error("notification dead-lettered", channel=delivery.channel, event_id=event.event_id, error=error)
