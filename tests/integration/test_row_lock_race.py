"""Many connections racing for the same seats through the processor's own transaction code."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from booking_processor.store import ShowCache, load_batch, write_batch
from runtime.shards import partition_of
from schemas.commands import CreateShow, RequestBooking
from schemas.layout import Layout, Section


async def _decide(pool, cache, commands, show_id):
    async with pool.acquire() as conn, conn.transaction():
        booking_ids = [c.booking_id for c in commands if isinstance(c, RequestBooking)]
        batch = await load_batch(conn, cache, [show_id], booking_ids, datetime.now(UTC))
        for command in commands:
            batch.decide(command)
        await write_batch(conn, batch, partition_of(show_id))
    return batch


def _request(show_id: str, n: int, seats=None, quantity=None) -> RequestBooking:
    return RequestBooking(
        command_id=f"c{n}",
        show_id=show_id,
        issued_at=datetime.now(UTC),
        booking_id=f"b-{show_id}-{n}",
        request_id=f"r-{show_id}-{n}",
        customer_id=f"c{n}",
        seats=seats,
        quantity=quantity,
    )


@pytest.mark.slow
async def test_forty_connections_race_for_ten_seats(pg):
    """Each racer runs the real lock-decide-write transaction with its own (cold) cache, as a processor
    that lost its partition would: the row lock serialises them and nobody oversells."""
    show_id = f"race-{secrets.token_hex(4)}"
    try:
        layout = Layout((Section("A", 1, 10, 1),))
        await _decide(
            pg,
            ShowCache(),
            [
                CreateShow(
                    command_id="c",
                    show_id=show_id,
                    issued_at=datetime.now(UTC),
                    title="t",
                    venue="v",
                    starts_at=datetime.now(UTC) + timedelta(days=30),
                    hold_seconds=120,
                    sections=list(layout.sections),
                )
            ],
            show_id,
        )

        async def racer(n: int):
            seats = [f"A-1-{(n % 10) + 1}", f"A-1-{((n + 1) % 10) + 1}"] if n % 2 else None
            command = _request(show_id, n, seats=seats, quantity=None if seats else 2)
            for _ in range(20):
                try:
                    return await _decide(pg, ShowCache(), [command], show_id)
                except asyncpg.DeadlockDetectedError:  # not expected: one lock per transaction
                    raise
            return None

        await asyncio.gather(*[racer(n) for n in range(40)])
        taken = await pg.fetch("SELECT seat_id, booking_id FROM seats WHERE show_id = $1", show_id)
        assert len(taken) == len({r["seat_id"] for r in taken}) <= 10
        live = await pg.fetch("SELECT seats FROM bookings WHERE show_id = $1 AND status = 'PENDING'", show_id)
        live_seats = [s for r in live for s in r["seats"]]
        assert len(live_seats) == len(set(live_seats)) == len(taken)
        assert await pg.fetchval("SELECT seats_available FROM shows WHERE show_id = $1", show_id) == 10 - len(taken)
        assert await pg.fetchval("SELECT version FROM shows WHERE show_id = $1", show_id) == 41
        assert await pg.fetchval("SELECT count(*) FROM bookings WHERE show_id = $1", show_id) == 40
    finally:
        # Racers that a fence would have stopped wrote events out of version order: they must never reach
        # booking.events (a relay of a later run would publish them, and no projection could apply them).
        await _forget(pg, show_id)


async def _forget(pg, show_id: str) -> None:
    for table in ("outbox", "seats", "bookings", "shows"):
        await pg.execute(f"DELETE FROM {table} WHERE show_id = $1", show_id)
