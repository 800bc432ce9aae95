"""The outbox relay, the expiry sweeper and the projection consumer, each over in-memory fakes
(tests/support/worker_fakes.py): order and at-least-once of the relay, the sweeper's resend guard and its
shard's partitions, and the projection consumer keeping its batch in hand while Redis is away."""

from __future__ import annotations

import asyncio

from booking_processor.relay import OutboxRelay
from expiry.sweeper import ExpirySweeper
from projections.consumer import ProjectionConsumer
from runtime.lifecycle import Lifecycle
from schemas import topics
from schemas.commands import decode_command
from schemas.events import ShowRejected, encode_event
from tests.support.worker_fakes import (
    NOW,
    FakeBatchProducer,
    FakeConsumer,
    FakeOutbox,
    FakeProducer,
    FakeSweepConnection,
)


def _relay(producer, batch_max: int = 100) -> OutboxRelay:
    return OutboxRelay(None, producer, batch_max, Lifecycle())


async def test_the_relay_publishes_each_show_in_order_and_moves_its_cursor_after_the_ack():
    outbox, producer = FakeOutbox(), FakeBatchProducer()
    outbox.add(10, "a", b"a1", b"a2")
    outbox.add(11, "b", b"b1")
    outbox.add(12, "a", b"a3")
    relay = _relay(producer)
    assert await relay.publish_pending(outbox) == 4
    by_show: dict[bytes, list[bytes]] = {}
    for sent in producer.to(topics.EVENTS):
        by_show.setdefault(sent.key, []).append(sent.value)
    assert by_show == {b"a": [b"a1", b"a2", b"a3"], b"b": [b"b1"]}
    assert outbox.cursor == {"txid": 12, "last_id": 3}
    assert await relay.publish_pending(outbox) == 0  # nothing published twice once acked


async def test_the_relay_waits_for_transactions_that_are_still_running():
    outbox, producer = FakeOutbox(), FakeBatchProducer()
    outbox.add(10, "a", b"a1")
    outbox.add(20, "a", b"a2")
    outbox.horizon = 15  # transaction 15 still runs: it could still write a row before txid 20
    relay = _relay(producer)
    assert await relay.publish_pending(outbox) == 1
    outbox.horizon = 100
    assert await relay.publish_pending(outbox) == 1
    assert [s.value for s in producer.sent] == [b"a1", b"a2"]


async def test_a_send_that_fails_leaves_the_cursor_so_the_rows_go_again():
    outbox, producer = FakeOutbox(), FakeBatchProducer()
    outbox.add(10, "a", b"a1")
    producer.down = 1
    relay = _relay(producer)
    try:
        await relay.publish_pending(outbox)
        raise AssertionError("the failed send must raise")
    except Exception as exc:
        assert "broker away" in str(exc)
    assert outbox.cursor == {"txid": 0, "last_id": 0}
    assert await relay.publish_pending(outbox) == 1 and [s.value for s in producer.sent] == [b"a1"]


async def test_the_relay_publishes_at_most_its_batch_and_never_splits_a_row():
    outbox, producer = FakeOutbox(), FakeBatchProducer()
    for txid in range(1, 6):
        outbox.add(txid, f"s{txid}", b"e1", b"e2")
    relay = _relay(producer, batch_max=3)
    assert await relay.publish_pending(outbox) == 4  # two whole rows (the second starts before the limit)
    assert await relay.publish_pending(outbox) == 4
    assert await relay.publish_pending(outbox) == 2


async def test_the_sweeper_expires_overdue_holds_of_its_partitions_once_while_in_flight():
    conn, producer, clock = FakeSweepConnection(), FakeProducer(), [0.0]
    sweeper = ExpirySweeper(None, producer, 1.0, Lifecycle(), owned=lambda: [1, 3], shard=1, clock=lambda: clock[0])
    conn.overdue = [{"booking_id": "b1", "show_id": "s"}, {"booking_id": "b2", "show_id": "s"}]
    assert await sweeper.sweep(conn) == 2
    sent = [decode_command(s.value, s.key) for s in producer.to(topics.COMMANDS)]
    assert [(c.type, c.booking_id) for c in sent] == [("ExpireBooking", "b1"), ("ExpireBooking", "b2")]
    assert conn.partitions_asked == [[1, 3]]
    clock[0] = 1.0
    assert await sweeper.sweep(conn) == 0  # still in flight: not sent again
    clock[0] = 6.0
    assert await sweeper.sweep(conn) == 2  # not decided after 5 s: asked again (a no-op if decided meanwhile)


class _Redis:
    """The few calls the projection consumer makes itself, and the positions hash the applier writes; `down`
    makes them fail as a lost connection (an OSError, transient as redis-py's own ConnectionError is)."""

    def __init__(self) -> None:
        self.down = 0
        self.positions: dict[bytes, bytes] = {}

    async def mget(self, *keys):
        if self.down:
            self.down -= 1
            raise ConnectionError("redis away")
        return [None, None]

    async def hgetall(self, key):
        return dict(self.positions)

    async def srem(self, *a):
        return 0

    async def sadd(self, *a):
        return 1


class _Applier:
    def __init__(self, redis: _Redis) -> None:
        self.redis = redis
        self.applied: list[list] = []
        self.fail = 0

    async def apply(self, events, keys, positions=None):
        if self.fail:
            self.fail -= 1
            raise ConnectionError("redis away mid-batch")
        self.applied.append([e.event_id for e in events])
        for partition, offset in (positions or {}).items():
            self.redis.positions[str(partition).encode()] = str(offset).encode()
        return [1] * len(events)


def _rejected(n: int) -> bytes:
    return encode_event(ShowRejected(event_id=f"e{n}", show_id="s", show_version=0, occurred_at=NOW, reason="r"))


async def test_the_projection_consumer_keeps_its_batch_while_redis_is_away_and_commits_after():
    consumer, redis, lifecycle = FakeConsumer(topics.EVENTS, partitions=1), _Redis(), Lifecycle()
    for n in range(3):
        consumer.append(0, _rejected(n), b"s")
    consumer.append(0, b"not an event", b"s")  # skipped, counted, never stops the consumer
    await consumer.assign([0])
    applier = _Applier(redis)
    applier.fail = 2
    redis.down = 1
    projections = ProjectionConsumer(consumer, redis, lifecycle, applier=applier)  # type: ignore[arg-type]
    async with asyncio.timeout(10):
        await projections.run(burst=True)
    assert applier.applied == [["e0", "e1", "e2"]]  # once, after the failures, the same batch
    assert consumer.committed[next(iter(consumer.assigned))] == 4
    assert redis.positions == {b"0": b"4"}  # the position goes with the applies


async def test_a_commit_that_never_returns_does_not_hold_the_consumer_or_its_stop(monkeypatch):
    """aiokafka's commit retries without end while the group's coordinator is unknown (a Kafka outage): the
    consumer's commits are bounded, so it goes on applying and a stop (SIGTERM) ends it, commit or not."""
    monkeypatch.setattr("runtime.commit_pace.COMMIT_TIMEOUT_S", 0.05)
    consumer, redis, lifecycle = FakeConsumer(topics.EVENTS, partitions=1), _Redis(), Lifecycle()
    hung = asyncio.Event()

    commits = 0

    async def coordinator_unknown(offsets=None):
        nonlocal commits
        commits += 1
        hung.set()
        await asyncio.Event().wait()

    consumer.commit = coordinator_unknown  # type: ignore[method-assign]
    for n in range(2):
        consumer.append(0, _rejected(n), b"s")
    await consumer.assign([0])
    applier, second_batch = _Applier(redis), asyncio.Event()
    apply = applier.apply

    async def applied(events, keys, positions=None):
        result = await apply(events, keys, positions)
        if len(applier.applied) == 2:
            second_batch.set()
        return result

    applier.apply = applied  # type: ignore[method-assign]
    projections = ProjectionConsumer(consumer, redis, lifecycle, applier=applier)  # type: ignore[arg-type]
    running = asyncio.create_task(projections.run())
    async with asyncio.timeout(5):
        await hung.wait()  # the empty fetch after the batch commits, and the commit hangs
        consumer.append(0, _rejected(2), b"s")
        await second_batch.wait()  # it gave up on that commit and applied the next batch
        lifecycle.stopping.set()
        await running  # the final commit hangs too, and is given up as well
    assert applier.applied == [["e0", "e1"], ["e2"]] and consumer.committed == {}
    assert commits >= 2  # the one that timed out, and the final one on the way out (timed out too)


async def test_after_a_redis_failover_that_lost_writes_the_events_are_applied_again():
    consumer, redis, lifecycle = FakeConsumer(topics.EVENTS, partitions=1), _Redis(), Lifecycle()
    applier = _Applier(redis)
    projections = ProjectionConsumer(consumer, redis, lifecycle, applier=applier)  # type: ignore[arg-type]
    for n in range(2):
        consumer.append(0, _rejected(n), b"s")
    await consumer.assign([0])
    async with asyncio.timeout(10):
        await projections.run(burst=True)
    # The primary acknowledged the next batch and died before its replica had it: the new primary holds the
    # old position. The consumer learns of it by the failure the failover causes.
    consumer.append(0, _rejected(2), b"s")
    async with asyncio.timeout(10):
        await projections.run(burst=True)
    assert redis.positions == {b"0": b"3"}
    redis.positions = {b"0": b"2"}  # what the promoted replica has
    redis.down = 1
    async with asyncio.timeout(10):
        await projections.run(burst=True)
    assert applier.applied == [["e0", "e1"], ["e2"], ["e2"]]  # e2 again, from where the new primary stands
    assert redis.positions == {b"0": b"3"}


async def test_a_generation_without_positions_is_rebuilt_from_the_start():
    """Redis lost everything (or the generation predates stored positions): the consumer, whatever Kafka's
    committed offsets say, applies the partition again from its first event."""
    consumer, redis, lifecycle = FakeConsumer(topics.EVENTS, partitions=1), _Redis(), Lifecycle()
    applier = _Applier(redis)
    for n in range(3):
        consumer.append(0, _rejected(n), b"s")
    await consumer.assign([0])
    consumer.seek(next(iter(consumer.assigned)), 2)  # the committed offset says two were applied
    projections = ProjectionConsumer(consumer, redis, lifecycle, applier=applier)  # type: ignore[arg-type]
    async with asyncio.timeout(10):
        await projections.run(burst=True)
    assert applier.applied == [["e0", "e1", "e2"]] and redis.positions == {b"0": b"3"}
