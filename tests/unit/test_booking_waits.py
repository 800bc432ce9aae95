"""intake/conditional.py (the headers and the tags) and intake/booking_waits.py (requests waiting for a
booking to change) over an in-memory feed and read model."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from intake.booking_waits import BookingWaits
from intake.conditional import EntityTags, booking_tag, entity_tags, prefer_wait, state_of
from schemas.api import BookingView

T0 = datetime(2027, 1, 1, 20, tzinfo=UTC)


def booking(booking_id: str = "bk_1", show_id: str = "sh_1", **kw: Any) -> BookingView:
    base = BookingView(booking_id, show_id, "alice", "RECEIVED", [], None, None, T0, T0)
    return msgspec.structs.replace(base, **kw)


# ---------------------------------------------------------------- the headers
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("wait=5", 5),
        ("WAIT=5", 5),
        ('wait="7"', 7),
        ("respond-async, wait=3", 3),
        ("wait=3; x=y", 3),
        ("wait=2, wait=9", 2),  # only the first counts
        ("wait=30", 30),
        ("wait=31", None),
        ("wait=0", None),
        ("wait=1.5", None),
        ("wait=", None),
        ("wait", None),
        ("wait=\u0665", None),  # an Arabic-Indic five is not an integer here
        ("handling=lenient", None),
        ("", None),
    ],
)
def test_prefer_wait(value, expected):
    assert prefer_wait(value) == expected


@pytest.mark.parametrize(
    ("value", "tags"),
    [
        ('"a"', {'"a"'}),
        ('"a", W/"b"', {'"a"', '"b"'}),
        ('"a",,"b"', {'"a"', '"b"'}),
        ('"a,b"', {'"a,b"'}),
        ("a", None),
        ('"a" "b"', None),
        ("", None),
    ],
)
def test_entity_tags(value, tags):
    parsed = entity_tags(value)
    assert (None if parsed is None else set(parsed.tags)) == tags
    assert entity_tags(" * ") == EntityTags(any=True)


def test_a_booking_tag_moves_with_its_state_and_apart_with_its_place():
    waiting = booking(queue_position=10, estimated_wait_s=1.0)
    nearer = booking(queue_position=3, estimated_wait_s=0.3)
    decided = booking(status="PENDING", seats=["A-1-1", "A-1-2"])
    assert booking_tag(waiting) != booking_tag(nearer)
    assert state_of(booking_tag(waiting)) == state_of(booking_tag(nearer))
    assert state_of(booking_tag(decided)) != state_of(booking_tag(waiting))
    assert EntityTags(frozenset({booking_tag(waiting)})).same_state(booking_tag(nearer))
    assert booking_tag(decided) == booking_tag(msgspec.json.decode(msgspec.json.encode(decided), type=BookingView))


# ---------------------------------------------------------------- the waits
class MemoryReads:
    def __init__(self) -> None:
        self.rows: dict[str, BookingView] = {}
        self.reads = 0  # round trips
        self.fail = False

    async def bookings(self, booking_ids: Sequence[str]) -> list[BookingView | None]:
        self.reads += 1
        if self.fail:
            raise ConnectionError("redis is down")
        return [self.rows.get(b) for b in booking_ids]


class MemoryFeed:
    def __init__(self) -> None:
        self.queues: dict[str, list[asyncio.Queue[Any]]] = {}
        self.subscribes = 0

    async def subscribe(self, show_id: str) -> asyncio.Queue[Any]:
        self.subscribes += 1
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self.queues.setdefault(show_id, []).append(queue)
        return queue

    async def unsubscribe(self, show_id: str, queue: asyncio.Queue[Any]) -> None:
        self.queues[show_id].remove(queue)

    def publish(self, show_id: str) -> None:
        for queue in self.queues.get(show_id, []):
            queue.put_nowait(b"changed")


@pytest.fixture
async def parts():
    reads, feed = MemoryReads(), MemoryFeed()
    waits = BookingWaits(reads, feed, recheck_s=30, place_every_s=0.5, min_gap_s=0, linger_s=0.2)
    yield reads, feed, waits
    await waits.close()


def _tags(view: BookingView) -> EntityTags:
    return EntityTags(frozenset({booking_tag(view)}))


async def test_a_notification_answers_every_waiter_of_the_show_with_one_listener_and_one_read(parts):
    reads, feed, waits = parts
    views = [booking(f"bk_{i}") for i in range(50)]
    for view in views:
        reads.rows[view.booking_id] = view
    tasks = [asyncio.create_task(waits.wait(v, _tags(v), 10)) for v in views]
    await asyncio.sleep(0.05)
    assert feed.subscribes == 1 and waits.waiting == 50
    before = reads.reads
    for view in views:
        reads.rows[view.booking_id] = msgspec.structs.replace(view, status="PENDING", seats=["A-1-1"])
    feed.publish("sh_1")
    done = await asyncio.wait_for(asyncio.gather(*tasks), 2)
    assert all(w.applied and w.booking is not None and w.booking.status == "PENDING" for w in done)
    assert reads.reads - before == 1  # one pipelined read for the fifty
    assert waits.waiting == 0


async def test_a_change_between_the_handler_s_read_and_the_wait_is_not_missed(parts):
    reads, _, waits = parts
    seen = booking()
    reads.rows[seen.booking_id] = msgspec.structs.replace(seen, status="REJECTED", reason="sold_out")
    waited = await asyncio.wait_for(waits.wait(seen, _tags(seen), 10), 2)  # no notification at all
    assert waited.booking is not None and waited.booking.status == "REJECTED"


async def test_a_move_in_the_line_alone_is_answered_at_the_slower_pace(parts):
    reads, feed, waits = parts
    seen = booking(queue_position=10)
    reads.rows[seen.booking_id] = msgspec.structs.replace(seen, queue_position=9)
    loop = asyncio.get_running_loop()
    started = loop.time()
    task = asyncio.create_task(waits.wait(seen, _tags(seen), 10))
    for _ in range(8):
        await asyncio.sleep(0.1)
        feed.publish("sh_1")
    waited = await asyncio.wait_for(task, 2)
    assert waited.booking is not None and waited.booking.queue_position == 9
    assert loop.time() - started >= 0.5  # not before place_every_s


async def test_the_wait_runs_out_unchanged_and_the_listener_retires(parts):
    reads, feed, waits = parts
    seen = booking()
    reads.rows[seen.booking_id] = seen
    waited = await waits.wait(seen, _tags(seen), 0.3)
    assert waited.applied and waited.booking is None
    assert waits.listened() == {"sh_1"}  # lingers for the client's next ask
    await waits.wait(seen, _tags(seen), 0.1)  # the next ask reuses it
    assert feed.subscribes == 1


async def test_a_client_gone_gives_up_its_place(parts):
    reads, _, waits = parts
    waits._recheck_s = 0.05
    seen = booking()
    reads.rows[seen.booking_id] = seen

    async def gone() -> bool:
        return True

    waited = await asyncio.wait_for(waits.wait(seen, _tags(seen), 10, gone=gone), 2)
    assert waited.booking is None and waits.waiting == 0


async def test_beyond_the_limit_nothing_is_waited(parts):
    reads, feed, _ = parts
    waits = BookingWaits(reads, feed, limit=1, recheck_s=30, min_gap_s=0)
    try:
        first, second = booking("bk_1"), booking("bk_2")
        reads.rows = {"bk_1": first, "bk_2": second}
        task = asyncio.create_task(waits.wait(first, _tags(first), 5))
        await asyncio.sleep(0.02)
        refused = await waits.wait(second, _tags(second), 5)
        assert not refused.applied
        await waits.close()  # stopping answers the one waiting as if its wait ran out
        waited = await asyncio.wait_for(task, 1)
        assert waited.booking is None
        assert not (await waits.wait(first, _tags(first), 5)).applied
    finally:
        await waits.close()


async def test_a_failing_read_is_retried_by_the_next_notification(parts):
    reads, feed, waits = parts
    seen = booking()
    reads.rows[seen.booking_id] = seen
    reads.fail = True
    task = asyncio.create_task(waits.wait(seen, _tags(seen), 10))
    await asyncio.sleep(0.05)
    reads.fail = False
    reads.rows[seen.booking_id] = msgspec.structs.replace(seen, status="PENDING")
    feed.publish("sh_1")
    waited = await asyncio.wait_for(task, 2)
    assert waited.booking is not None and waited.booking.status == "PENDING"
