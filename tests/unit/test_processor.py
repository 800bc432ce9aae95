"""The command processor's own logic, in milliseconds: the real CommandProcessor over a fake consumer, producer and
database port (tests/support/worker_fakes.py), run in burst mode. What PostgreSQL and Kafka add is tested end to
end elsewhere; here: batching and order, positions, retries, isolating what the database refuses, the dead
letters, fencing, halts and holds."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import msgspec
import pytest

from booking_processor import committer
from booking_processor.processor import CommandProcessor
from runtime.lifecycle import Lifecycle
from schemas import topics
from schemas.commands import CreateShow, RequestBooking, encode_command
from schemas.layout import Section
from tests.support.worker_fakes import NOW, FakeConsumer, FakeDecisions, FakeProducer, FakeShards

TOPIC = "test.commands"


def _create(show_id: str) -> bytes:
    return encode_command(
        CreateShow(
            command_id=f"create-{show_id}",
            show_id=show_id,
            issued_at=NOW,
            title="t",
            venue="v",
            starts_at=NOW + timedelta(days=30),
            hold_seconds=60,
            sections=[Section("A", 1, 10, 1)],
        )
    )


def _request(show_id: str, n: int, quantity: int = 1) -> bytes:
    return encode_command(
        RequestBooking(
            command_id=f"{show_id}-r{n}",
            show_id=show_id,
            issued_at=NOW,
            booking_id=f"{show_id}-b{n}",
            request_id=f"{show_id}-q{n}",
            customer_id=f"c{n}",
            quantity=quantity,
        )
    )


class Rig:
    def __init__(self, batch_max: int = 1000) -> None:
        self.consumer, self.producer = FakeConsumer(TOPIC), FakeProducer()
        self.decisions, self.shards, self.lifecycle = FakeDecisions(), FakeShards(), Lifecycle()
        self.processor = CommandProcessor(
            self.shards, self.producer, "g", batch_max, self.lifecycle, topic=TOPIC, decisions=self.decisions
        )  # type: ignore[arg-type]
        self.processor.consumer = self.consumer  # type: ignore[assignment]
        self.consumer.listener = self.processor.rebalance_listener()

    def show(self, partition: int, show_id: str, requests: int) -> None:
        self.consumer.append(partition, _create(show_id), show_id.encode())
        for n in range(requests):
            self.consumer.append(partition, _request(show_id, n), show_id.encode())

    async def drain(self, partitions=(0, 1)) -> None:
        if not self.consumer.assigned:
            await self.consumer.assign(partitions)
        async with asyncio.timeout(10):
            await self.processor.run(burst=True)

    def status(self, booking_id: str) -> tuple[str, str | None]:
        booking = self.decisions.bookings[booking_id]
        return booking.status, booking.reason


async def test_commands_are_decided_in_order_and_the_position_moves_past_them():
    rig = Rig(batch_max=3)
    rig.show(0, "s0", 5)
    rig.show(1, "s1", 2)
    await rig.drain()
    assert [rig.status(f"s0-b{n}")[0] for n in range(5)] == ["PENDING"] * 5
    assert rig.decisions.stored == {(0, 0): 6, (1, 1): 3}  # partition p lives on shard p % 2
    # batches of at most 3 commands, each starting where the last one ended
    assert [(p, a, b) for _, p, a, b, _ in rig.decisions.commits if p == 0] == [(0, 0, 3), (0, 3, 6)]
    assert [e.show_version for e in rig.decisions.events if e.show_id == "s0"] == list(range(1, 7))


async def test_a_stored_position_is_where_a_partition_resumes():
    rig = Rig()
    rig.show(0, "s0", 4)
    rig.decisions.stored[(0, 0)] = 3  # decided up to offset 2 by an earlier owner
    await rig.drain(partitions=[0])
    assert [c[2:4] for c in rig.decisions.commits] == [(3, 5)]
    assert "s0-b0" not in rig.decisions.bookings and rig.status("s0-b2")[0] == "REJECTED"  # no show: never created


async def test_transient_failures_retry_the_same_batch_and_skip_nothing():
    rig = Rig()
    rig.show(0, "s0", 3)
    rig.decisions.transient = 3
    await rig.drain(partitions=[0])
    assert [rig.status(f"s0-b{n}")[0] for n in range(3)] == ["PENDING"] * 3
    assert rig.decisions.stored[(0, 0)] == 4 and len(rig.decisions.commits) == 1


async def test_a_command_the_database_refuses_is_isolated_dead_lettered_and_decided_invalid():
    rig = Rig()
    rig.show(0, "s0", 4)
    rig.decisions.refused = {"s0-r2"}
    await rig.drain(partitions=[0])
    assert rig.status("s0-b2") == ("REJECTED", "invalid_request")
    assert [rig.status(f"s0-b{n}")[0] for n in (0, 1, 3)] == ["PENDING"] * 3
    (dead,) = rig.producer.to(topics.COMMANDS_DLQ)
    assert msgspec.json.decode(dead.value)["command_id"] == "s0-r2" and dict(dead.headers)["error"]
    # One transaction per command to find it; only the last moves the position past the batch.
    assert rig.decisions.stored[(0, 0)] == 5
    assert [c[2:4] for c in rig.decisions.commits] == [(0, 0)] * 4 + [(0, 5)]  # the create and 4 requests


async def test_an_undecodable_message_is_dead_lettered_and_its_request_decided_in_its_place():
    rig = Rig()
    rig.show(0, "s0", 1)
    raw = msgspec.json.decode(_request("s0", 7))
    raw["quantity"] = 99  # beyond the contract's limit
    rig.consumer.append(0, msgspec.json.encode(raw), b"s0")
    rig.consumer.append(0, _request("s0", 8), b"s0")
    await rig.drain(partitions=[0])
    assert rig.status("s0-b7") == ("REJECTED", "invalid_request")
    assert rig.status("s0-b8")[0] == "PENDING"
    (dead,) = rig.producer.to(topics.COMMANDS_DLQ)
    assert dict(dead.headers)["source_offset"] == b"2" and b"quantity" in dict(dead.headers)["error"]


async def test_a_dead_letter_waits_for_the_broker_before_the_partition_moves_past_it():
    rig = Rig()
    rig.consumer.append(0, b"not json", b"s0")
    rig.producer.down = 3
    await rig.drain(partitions=[0])
    assert len(rig.producer.to(topics.COMMANDS_DLQ)) == 1 and rig.decisions.stored[(0, 0)] == 1


async def test_fenced_by_another_owner_it_reseeks_to_the_stored_position():
    rig = Rig()
    rig.show(0, "s0", 2)
    await rig.drain(partitions=[0])
    # Another processor decided offsets 3..4 meanwhile (its commands are in the log too).
    for n in (2, 3):
        rig.consumer.append(0, _request("s0", n), b"s0")
    rig.decisions.stored[(0, 0)] = 5
    rig.consumer.append(0, _request("s0", 4), b"s0")
    await rig.drain(partitions=[0])
    assert "s0-b2" not in rig.decisions.bookings and "s0-b3" not in rig.decisions.bookings
    assert rig.status("s0-b4")[0] == "PENDING" and rig.decisions.stored[(0, 0)] == 6


@pytest.fixture(autouse=True)
def _quick_second_try(monkeypatch):
    monkeypatch.setattr(committer, "SECOND_TRY_S", 0.01)


async def test_an_unexpected_error_that_does_not_recur_is_tried_once_more_not_halted():
    """An error a database client raises for a connection that broke under it, under a name not known to be
    transient, must not stop a partition until a restart: the batch is tried once more, and decided."""
    rig = Rig()
    rig.show(0, "glitch", 2)
    rig.decisions.defect, rig.decisions.defect_once = {"glitch-r1"}, True
    await rig.drain()
    assert await rig.processor.all_partitions_running()
    assert [rig.status(f"glitch-b{n}")[0] for n in range(2)] == ["PENDING"] * 2
    assert rig.producer.to(topics.COMMANDS_DLQ) == []


async def test_a_defect_halts_its_partition_only():
    rig = Rig()
    rig.show(0, "bad", 2)
    rig.show(1, "good", 2)
    rig.decisions.defect = {"bad-r1"}
    await rig.drain()
    assert not await rig.processor.all_partitions_running()
    assert [tp.partition for tp in rig.processor.halted] == [0]
    assert rig.decisions.stored[(0, 0)] == 0  # nothing of the halted batch moved
    assert [rig.status(f"good-b{n}")[0] for n in range(2)] == ["PENDING"] * 2
    assert rig.producer.to(topics.COMMANDS_DLQ) == []  # a defect is never dead-lettered
    rig.consumer.append(1, _request("good", 5), b"good")
    await rig.drain()
    assert rig.status("good-b5")[0] == "PENDING"  # the healthy partition goes on


async def test_a_partition_the_shard_map_moves_is_held_then_decided_on_its_new_shard():
    rig = Rig()
    rig.show(0, "s0", 1)
    await rig.drain(partitions=[0])
    rig.shards.map.moving[0] = 1  # partition 0 is being copied to shard 1
    rig.consumer.append(0, _request("s0", 1), b"s0")
    await rig.drain(partitions=[0])
    assert rig.processor.assignment.held and "s0-b1" not in rig.decisions.bookings
    # The switch: shard 1 owns it, the copy carried the position; the source keeps a paused mark.
    rig.decisions.stored[(1, 0)] = rig.decisions.stored[(0, 0)]
    rig.decisions.paused.add((0, 0))
    del rig.shards.map.moving[0]
    rig.shards.map.owner[0] = 1
    rig.processor.assignment.held[next(iter(rig.processor.assignment.held))] = 0.0  # recheck now
    await rig.drain(partitions=[0])
    await asyncio.sleep(0)
    await rig.drain(partitions=[0])
    assert rig.status("s0-b1")[0] == "PENDING" and rig.decisions.stored[(1, 0)] == 3


@pytest.mark.parametrize("stop_after", [0, 2])
async def test_a_stop_during_retries_moves_nothing(stop_after):
    rig = Rig()
    rig.show(0, "s0", 1)
    rig.decisions.transient = 1_000_000  # the primary never answers

    async def stop_soon() -> None:
        await asyncio.sleep(0.05 * stop_after)
        rig.lifecycle.stop()

    await rig.consumer.assign([0])
    stopper = asyncio.create_task(stop_soon())
    async with asyncio.timeout(10):
        await rig.processor.run()
    await stopper
    assert rig.decisions.stored.get((0, 0), 0) == 0 and rig.decisions.commits == []
