"""The invariants every storm, crash and benchmark run checks against the real databases."""
from __future__ import annotations

import asyncpg

from ops.reconcile import reconcile
from projections.keys import ACTIVE_NAMESPACE_KEY, Keys, active_namespace
from tests.support.waiting import eventually


async def assert_no_overbooking(pg: asyncpg.Pool, show_id: str) -> None:
    """No seat in two live bookings; the seats table, live bookings and the counter all agree."""
    doubled = await pg.fetch(
        """SELECT seat, count(*) FROM bookings, unnest(seats) AS seat
           WHERE show_id = $1 AND status IN ('PENDING', 'CONFIRMED') GROUP BY seat HAVING count(*) > 1""",
        show_id)
    assert doubled == [], f"seats in two live bookings: {doubled}"
    live_seats = await pg.fetchval(
        """SELECT coalesce(sum(cardinality(seats)), 0) FROM bookings
           WHERE show_id = $1 AND status IN ('PENDING', 'CONFIRMED')""", show_id)
    seat_rows = await pg.fetchval("SELECT count(*) FROM seats WHERE show_id = $1", show_id)
    total, available = await pg.fetchrow("SELECT seats_total, seats_available FROM shows WHERE show_id = $1",
                                         show_id)
    assert live_seats == seat_rows == total - available, (live_seats, seat_rows, total, available)
    mismatched = await pg.fetchval(
        """SELECT count(*) FROM seats s JOIN bookings b USING (booking_id)
           WHERE s.show_id = $1 AND NOT (s.seat_id = ANY(b.seats) AND b.status IN ('PENDING', 'CONFIRMED')
                 AND (s.state = 'HELD') = (b.status = 'PENDING'))""", show_id)
    assert mismatched == 0


async def assert_projection_matches(pg: asyncpg.Pool, redis, show_ids: list[str], timeout: float = 30) -> None:
    """Wait until Redis caught up with PostgreSQL for these shows, then require equality."""
    async def differences() -> list[str]:
        keys = Keys(active_namespace(await redis.get(ACTIVE_NAMESPACE_KEY)))
        return await reconcile(pg, redis, keys, show_ids)

    await eventually(differences, lambda diffs: diffs == [],
                     timeout=timeout, interval=0.25, what="Redis read models equal to PostgreSQL")
