"""The invariants that every storm, crash test and benchmark run checks against the real databases.
Each returns the violations found (empty = holds), so tests assert on them and benchmarks fail loudly."""
from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis

from ops.reconcile import reconcile
from projections.keys import live_keys


async def overbooking_violations(pg: asyncpg.Pool, show_id: str) -> list[str]:
    """No seat in two live bookings; the seats table, live bookings and the counter all agree."""
    problems = []
    doubled = await pg.fetch(
        """SELECT seat, count(*) FROM bookings, unnest(seats) AS seat
           WHERE show_id = $1 AND status IN ('PENDING', 'CONFIRMED') GROUP BY seat HAVING count(*) > 1""",
        show_id)
    if doubled:
        problems.append(f"{show_id}: seats in two live bookings: {[tuple(r) for r in doubled[:10]]}")
    live_seats = await pg.fetchval(
        """SELECT coalesce(sum(cardinality(seats)), 0) FROM bookings
           WHERE show_id = $1 AND status IN ('PENDING', 'CONFIRMED')""", show_id)
    seat_rows = await pg.fetchval("SELECT count(*) FROM seats WHERE show_id = $1", show_id)
    total, available = await pg.fetchrow("SELECT seats_total, seats_available FROM shows WHERE show_id = $1",
                                         show_id)
    if not live_seats == seat_rows == total - available:
        problems.append(f"{show_id}: live booking seats {live_seats}, seat rows {seat_rows}, "
                        f"total - available {total - available} differ")
    mismatched = await pg.fetchval(
        """SELECT count(*) FROM seats s JOIN bookings b USING (booking_id)
           WHERE s.show_id = $1 AND NOT (s.seat_id = ANY(b.seats) AND b.status IN ('PENDING', 'CONFIRMED')
                 AND (s.state = 'HELD') = (b.status = 'PENDING'))""", show_id)
    if mismatched:
        problems.append(f"{show_id}: {mismatched} seat rows disagree with their booking")
    return problems


async def undecided(pg: asyncpg.Pool, booking_ids: list[str]) -> int:
    """How many of these accepted requests have no decision in PostgreSQL."""
    decided = await pg.fetchval("SELECT count(*) FROM bookings WHERE booking_id = ANY($1::text[])", booking_ids)
    return len(set(booking_ids)) - decided


async def projection_differences(pg: asyncpg.Pool, redis: aioredis.Redis, show_ids: list[str]) -> list[str]:
    return await reconcile(pg, redis, await live_keys(redis), show_ids)
