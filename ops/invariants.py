"""The invariants that every storm, crash test and benchmark run checks against the real databases.
Each returns the violations found (empty = holds), so tests assert on them and benchmarks fail loudly.
They read the primaries (never a replica), each show on the shard the map gives it."""

from __future__ import annotations

import redis.asyncio as aioredis

from ops.reconcile import reconcile
from projections.keys import live_keys
from runtime.shards import Shards


async def overbooking_violations(shards: Shards, show_id: str) -> list[str]:
    """No seat in two live bookings; the seats table, live bookings and the counter all agree."""
    pg = shards.primary_for_show(show_id)
    problems = []
    doubled = await pg.fetch(
        """SELECT seat, count(*) FROM bookings, unnest(seats) AS seat
           WHERE show_id = $1 AND status IN ('PENDING', 'CONFIRMED') GROUP BY seat HAVING count(*) > 1""",
        show_id,
    )
    if doubled:
        problems.append(f"{show_id}: seats in two live bookings: {[tuple(r) for r in doubled[:10]]}")
    live_seats = await pg.fetchval(
        """SELECT coalesce(sum(cardinality(seats)), 0) FROM bookings
           WHERE show_id = $1 AND status IN ('PENDING', 'CONFIRMED')""",
        show_id,
    )
    seat_rows = await pg.fetchval("SELECT count(*) FROM seats WHERE show_id = $1", show_id)
    row = await pg.fetchrow("SELECT seats_total, seats_available FROM shows WHERE show_id = $1", show_id)
    if row is None:
        return [*problems, f"{show_id}: not on shard {shards.map.shard_of_show(show_id)}, where the map puts it"]
    total, available = row
    if not live_seats == seat_rows == total - available:
        problems.append(
            f"{show_id}: live booking seats {live_seats}, seat rows {seat_rows}, "
            f"total - available {total - available} differ"
        )
    mismatched = await pg.fetchval(
        """SELECT count(*) FROM seats s JOIN bookings b USING (booking_id)
           WHERE s.show_id = $1 AND NOT (s.seat_id = ANY(b.seats) AND b.status IN ('PENDING', 'CONFIRMED')
                 AND (s.state = 'HELD') = (b.status = 'PENDING'))""",
        show_id,
    )
    if mismatched:
        problems.append(f"{show_id}: {mismatched} seat rows disagree with their booking")
    return problems


async def undecided(shards: Shards, booking_ids: list[str]) -> int:
    """How many of these accepted requests have no decision in PostgreSQL (on any shard)."""
    decided = 0
    for shard, pool in enumerate(shards.primaries):
        decided += await pool.fetchval(
            """SELECT count(*) FROM bookings WHERE booking_id = ANY($1::text[]) AND partition = ANY($2::smallint[])""",
            booking_ids,
            shards.map.owned(shard),
        )
    return len(set(booking_ids)) - decided


async def projection_differences(shards: Shards, redis: aioredis.Redis, show_ids: list[str]) -> list[str]:
    return await reconcile(shards, redis, await live_keys(redis), show_ids)
