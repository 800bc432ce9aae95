"""What a batch decides for a show it creates is what PostgreSQL keeps: the processor's own lock-decide-write
transaction (booking_processor/store.py), then the show loaded again with a cold cache, as after a restart."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from booking_processor.store import ShowCache, load_batch, write_batch
from runtime.shards import partition_of
from schemas.commands import CancelShow, CreateShow, JoinWaitlist, RequestBooking
from schemas.layout import Section


async def _decide(pg, show_id: str, commands: list) -> None:
    async with pg.acquire() as conn, conn.transaction():
        cancelling = [c.show_id for c in commands if isinstance(c, CancelShow)]
        batch = await load_batch(conn, ShowCache(), [show_id], [], datetime.now(UTC), None, None, cancelling)
        for command in commands:
            batch.decide(command)
        await write_batch(conn, batch, partition_of(show_id))


async def _load(pg, show_id: str):
    async with pg.acquire() as conn, conn.transaction():
        return (await load_batch(conn, ShowCache(), [show_id], [], datetime.now(UTC))).shows[show_id]


def _create(show_id: str, **rules) -> CreateShow:
    now = datetime.now(UTC)
    return CreateShow(
        command_id="c",
        show_id=show_id,
        issued_at=now,
        title="t",
        venue="v",
        starts_at=now + timedelta(days=30),
        hold_seconds=120,
        sections=[Section("A", 1, 2, 100)],
        **rules,
    )


def _join(show_id: str, customer: str) -> JoinWaitlist:
    return JoinWaitlist(
        command_id=customer, show_id=show_id, issued_at=datetime.now(UTC), customer_id=customer, quantity=1
    )


async def _forget(pg, show_id: str) -> None:
    for table in ("outbox", "waitlist", "fair_start_entries", "seats", "bookings", "shows"):
        await pg.execute(f"DELETE FROM {table} WHERE show_id = $1", show_id)


async def test_a_waiting_place_taken_in_the_creating_batch_keeps_the_line_s_counter(pg):
    show_id = f"rt-{secrets.token_hex(4)}"
    try:
        request = RequestBooking(
            command_id="r",
            show_id=show_id,
            issued_at=datetime.now(UTC),
            booking_id=f"b-{show_id}",
            request_id=f"r-{show_id}",
            customer_id="holder",
            quantity=2,
        )
        await _decide(pg, show_id, [_create(show_id), request, _join(show_id, "ann")])
        show = await _load(pg, show_id)
        assert (show.waitlist_seq, list(show.waitlist)) == (1, ["ann"])
        await _decide(pg, show_id, [_join(show_id, "bob")])  # a cold cache: seq 1, not 0 again
        show = await _load(pg, show_id)
        assert [(e.customer_id, e.seq) for e in show.waitlist.values()] == [("ann", 0), ("bob", 1)]
    finally:
        await _forget(pg, show_id)


async def test_a_show_created_and_cancelled_in_one_batch_stays_cancelled(pg):
    show_id = f"rt-{secrets.token_hex(4)}"
    try:
        await _decide(
            pg, show_id, [_create(show_id), CancelShow(command_id="x", show_id=show_id, issued_at=datetime.now(UTC))]
        )
        assert (await _load(pg, show_id)).cancelled_at is not None
    finally:
        await _forget(pg, show_id)


async def test_a_fair_start_drawn_in_the_creating_batch_is_kept_drawn(pg):
    show_id = f"rt-{secrets.token_hex(4)}"
    try:
        opened = datetime.now(UTC) - timedelta(minutes=5)  # its window was over before the show was created
        create = _create(show_id, sale_opens_at=opened, fair_start_window_s=10, fair_start_seed="ab" * 16)
        request = RequestBooking(
            command_id="r",
            show_id=show_id,
            issued_at=datetime.now(UTC),
            booking_id=f"b-{show_id}",
            request_id=f"r-{show_id}",
            customer_id="c",
            quantity=1,
        )
        await _decide(pg, show_id, [create, request])
        show = await _load(pg, show_id)
        assert show.fair_start_drawn and not show.awaits_draw
    finally:
        await _forget(pg, show_id)
