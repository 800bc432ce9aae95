"""The notifier's dispatcher, in milliseconds: the real Dispatcher over a fake consumer, ledger and mail server
(tests/support/worker_fakes.py). Once per event; nothing sent while its bookkeeping is away; a delivery sent
but not recorded is kept in hand, recorded once the bookkeeping answers, and never sent again; retries from
the ledger; the dead-letter topic after the last attempt; offsets committed only past handled events."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from notifier.dispatcher import IN_FLIGHT, Dispatcher
from payments.provider import ProviderError
from runtime.lifecycle import Lifecycle
from schemas import topics
from schemas.events import BookingPending, encode_event
from tests.support.worker_fakes import NOW, FakeConsumer, FakeLedger, FakeProducer, FakeSmtp, until


def _event(n: int, email: str | None = "a@example.com") -> bytes:
    return encode_event(
        BookingPending(
            event_id=f"s/{n + 2}",
            show_id="s",
            show_version=n + 2,
            occurred_at=NOW,
            booking_id=f"b{n}",
            customer_id="c",
            email=email,
            seats=["A-1-1"],
            status="PENDING",
            expires_at=NOW,
            created_at=NOW,
            updated_at=NOW,
        )
    )


class Rig:
    def __init__(self, max_attempts: int = 3, burst: bool = False) -> None:
        self.consumer, self.producer = FakeConsumer(topics.EVENTS, partitions=1), FakeProducer()
        self.ledger, self.smtp, self.lifecycle = FakeLedger(), FakeSmtp(), Lifecycle()
        self.dispatcher = Dispatcher(
            self.consumer,
            self.producer,
            self.ledger,
            self.smtp,
            None,  # type: ignore[arg-type]
            "tickets@test",
            max_attempts,
            0.001,
            self.lifecycle,
            lease_s=60,
            burst=burst,
            stop_grace_s=0.2,
        )

    async def events(self, *events: bytes) -> None:
        for raw in events:
            self.consumer.append(0, raw, b"s")
        await self.consumer.assign([0])

    async def run_until(self, condition, timeout: float = 5.0) -> None:
        task = asyncio.create_task(self.dispatcher.run())
        try:
            await until(condition, timeout)
        finally:
            self.lifecycle.stop()
            await task

    def sent(self) -> list[str]:
        return [m["Message-ID"] for m in self.smtp.messages]

    def committed(self) -> int:
        return next(iter(self.consumer.committed.values()), 0)


async def test_one_email_per_event_and_the_offset_past_them():
    rig = Rig()
    await rig.events(_event(0), _event(1), _event(2, email=None))  # the third reaches nobody
    await rig.run_until(lambda: len(rig.smtp.messages) == 2 and rig.committed() == 3)
    assert rig.sent() == ["<s/2@boxoffice>", "<s/3@boxoffice>"]
    assert {k: r.status for k, r in rig.ledger.rows.items()} == {("s/2", "email"): "sent", ("s/3", "email"): "sent"}


async def test_a_redelivered_event_is_not_sent_again():
    rig = Rig(burst=True)
    await rig.events(_event(0))
    async with asyncio.timeout(5):
        await rig.dispatcher.run()
    assert rig.committed() == 1
    rig.consumer.seek(next(iter(rig.consumer.assigned)), 0)  # the topic read again (a replay, a rebalance)
    async with asyncio.timeout(5):
        await rig.dispatcher.run()
    assert rig.sent() == ["<s/2@boxoffice>"] and rig.committed() == 1


async def test_nothing_is_sent_while_the_bookkeeping_is_away_and_all_once_it_answers():
    rig = Rig()
    rig.ledger.down = True
    await rig.events(*[_event(n) for n in range(5)])
    task = asyncio.create_task(rig.dispatcher.run())
    await asyncio.sleep(0.3)
    assert rig.smtp.messages == [] and rig.committed() == 0  # nothing sent, nothing committed
    rig.ledger.down = False
    await until(lambda: len(rig.smtp.messages) == 5 and rig.committed() == 5, 10)
    rig.lifecycle.stop()
    await task
    assert sorted(rig.sent()) == sorted(f"<s/{n + 2}@boxoffice>" for n in range(5))


async def test_a_sent_delivery_is_kept_in_hand_until_recorded_and_never_sent_twice():
    rig = Rig()
    rig.ledger.fail_marks = 4  # the primary goes away right after the send
    await rig.events(_event(0))
    task = asyncio.create_task(rig.dispatcher.run())
    await until(lambda: rig.smtp.messages)
    # Sent, not recorded: in flight; meanwhile its lease runs out and the retry loop would take it.
    assert IN_FLIGHT._value.get() == 1
    rig.ledger.now += timedelta(minutes=5)
    await until(lambda: rig.ledger.rows[("s/2", "email")].status == "sent", 10)
    rig.lifecycle.stop()
    await task
    assert rig.sent() == ["<s/2@boxoffice>"] and IN_FLIGHT._value.get() == 0


async def test_a_failed_attempt_is_retried_from_the_ledger_then_dead_lettered():
    rig = Rig(max_attempts=3)
    rig.smtp.refuse_to = {"bad@example.com"}
    await rig.events(_event(0, email="bad@example.com"), _event(1))

    def advance() -> bool:  # time passes: every scheduled retry is due
        rig.ledger.now += timedelta(seconds=1)
        return rig.ledger.rows.get(("s/2", "email")) is not None and rig.ledger.rows[("s/2", "email")].status == "dead"

    await rig.run_until(advance)
    row = rig.ledger.rows[("s/2", "email")]
    assert (row.status, row.attempts) == ("dead", 3)
    assert rig.sent() == ["<s/3@boxoffice>"]  # the good one went out at once, behind nobody
    (dead,) = rig.producer.to(topics.NOTIFICATIONS_DLQ)
    assert dict(dead.headers)["channel"] == b"email" and b"451" in dict(dead.headers)["error"]
    assert rig.committed() == 2  # a scheduled retry counts as handled


async def test_a_stop_mid_delivery_does_not_commit_its_offset():
    rig = Rig()
    rig.smtp.gate = asyncio.Event()  # the mail server never answers
    await rig.events(_event(0))
    task = asyncio.create_task(rig.dispatcher.run())
    await asyncio.sleep(0.1)
    rig.lifecycle.stop()
    async with asyncio.timeout(10):
        await task
    assert rig.committed() == 0 and rig.smtp.messages == []


async def test_a_refund_the_provider_refused_is_retried_from_the_ledger_past_the_notifications_attempts():
    """A settlement (here a refund on a BookingPaymentUpdated, a type that notifies nobody) is a delivery of the
    `payment` channel: retried from the ledger until the provider takes it, beyond an email's attempts, and
    made with the idempotency key the decision gave it."""
    from notifier.channels import PaymentChannel
    from schemas.events import BookingPaymentUpdated
    from schemas.payments import Payment, Settlement
    from tests.support.fakes import FakePayments

    class Flaky(FakePayments):
        failures = 4  # more than the Rig's max_attempts (3): a settlement is not given up on so soon

        async def refund(self, payment_id: str, amount: int, idempotency_key: str) -> str:
            if self.failures:
                self.failures -= 1
                raise ProviderError("HTTP 503")
            return await super().refund(payment_id, amount, idempotency_key)

    rig = Rig(max_attempts=3)
    provider = Flaky()
    rig.dispatcher._payments = PaymentChannel(provider)
    refund = Settlement("refund", "dev", "cs_1", "pi_1", 4500, "EUR", "late_payment", key="refund-all/pi_1")
    payment = Payment("dev", "cs_1", "refund_requested", 4500, "EUR", "pi_1", 4500)
    event = BookingPaymentUpdated(event_id="s/9", show_id="s", show_version=9, occurred_at=NOW, booking_id="b1",
                                  customer_id="c", seats=[], status="EXPIRED", created_at=NOW, updated_at=NOW,
                                  payment=payment, settle=refund)  # fmt: skip
    raw = encode_event(event)
    await rig.events(raw)

    def advance() -> bool:
        rig.ledger.now += timedelta(seconds=1)
        row = rig.ledger.rows.get(("s/9", "payment"))
        return row is not None and row.status == "sent"

    await rig.run_until(advance)
    assert provider.refunds == [("pi_1", 4500, "refund-all/pi_1")]
    assert rig.ledger.rows[("s/9", "payment")].attempts == 5
    assert rig.sent() == []  # nobody is emailed about it
