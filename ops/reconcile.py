"""`boxoffice reconcile`: compare the Redis read models with PostgreSQL, the source of truth.

Checks, on every shard for the partitions the shard map gives it, per show: the show document exists, its
version and availability equal PostgreSQL's, the held and booked sets equal the seats table, the waiting
line is the waitlist table's customers in join order, and the holds are its PENDING bookings; per booking:
the status document exists with PostgreSQL's status and seats. Returns every difference found
(empty = equal).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import asyncpg
import msgspec
import redis.asyncio as aioredis

from projections.keys import Keys
from runtime.shards import Shards
from schemas.api import BookingView

CHUNK = 500
_booking_view = msgspec.json.Decoder(BookingView)  # the stored document is the API's view, decoded as one


async def reconcile(
    shards: Shards,
    redis: aioredis.Redis,
    keys: Keys,
    show_ids: Iterable[str] | None = None,
    settle_s: float = 0.0,
) -> list[str]:
    """Every shard, each for the partitions the shard map gives it. `settle_s`: on a live system a decision can
    land in Redis between the read of PostgreSQL and the read of Redis (a hold expiring, say): differences are
    looked for again after `settle_s`, and only those found both times are reported."""
    wanted = None if show_ids is None else list(show_ids)
    differences = await _once(shards, redis, keys, wanted)
    if differences and settle_s > 0:
        await asyncio.sleep(settle_s)
        again = set(await _once(shards, redis, keys, wanted))
        differences = [d for d in differences if d in again]
    return differences


async def _once(shards: Shards, redis: aioredis.Redis, keys: Keys, wanted: list[str] | None) -> list[str]:
    differences: list[str] = []
    for shard, pool in enumerate(shards.primaries):
        differences += await _reconcile_shard(pool, shards.map.owned(shard), redis, keys, wanted)
    return differences


async def _reconcile_shard(
    pool: asyncpg.Pool, owned: list[int], redis: aioredis.Redis, keys: Keys, show_ids: list[str] | None
) -> list[str]:
    differences: list[str] = []
    if show_ids is None:
        shows = await pool.fetch(
            """SELECT show_id, version, seats_available FROM shows
                                    WHERE partition = ANY($1::smallint[]) ORDER BY show_id""",
            owned,
        )
    else:
        shows = await pool.fetch(
            """SELECT show_id, version, seats_available FROM shows
               WHERE show_id = ANY($1::text[]) AND partition = ANY($2::smallint[]) ORDER BY show_id""",
            show_ids,
            owned,
        )
    for start in range(0, len(shows), CHUNK):
        chunk = shows[start : start + CHUNK]
        ids = [r["show_id"] for r in chunk]
        seats: dict[str, dict[str, set[str]]] = {sid: {"HELD": set(), "BOOKED": set()} for sid in ids}
        for row in await pool.fetch("SELECT show_id, seat_id, state FROM seats WHERE show_id = ANY($1::text[])", ids):
            seats[row["show_id"]][row["state"]].add(row["seat_id"])
        lines, holds = await _lines_and_holds(pool, ids)
        async with redis.pipeline(transaction=False) as pipe:
            for sid in ids:
                pipe.hmget(keys.show(sid), "version", "available", "gap")
                pipe.smembers(keys.held(sid))
                pipe.smembers(keys.booked(sid))
                pipe.zrange(keys.waitlist(sid), 0, -1)
                pipe.zrange(keys.holds(sid), 0, -1)
            replies = await pipe.execute()
        for i, row in enumerate(chunk):
            sid = row["show_id"]
            (version, available, gap), held, booked, line, held_ids = replies[5 * i : 5 * i + 5]
            line_now = [m.decode() for m in line]
            if line_now != lines.get(sid, []):
                differences.append(f"{keys.waitlist(sid)}: {line_now[:10]} != PostgreSQL {lines.get(sid, [])[:10]}")
            if {m.decode() for m in held_ids} != holds.get(sid, set()):
                differences.append(f"{keys.holds(sid)}: the holds differ from PostgreSQL's PENDING bookings")
            if version is None:
                differences.append(f"{keys.show(sid)}: missing (PostgreSQL has version {row['version']})")
                continue
            if int(version) != row["version"]:
                differences.append(f"{keys.show(sid)}: version {int(version)} != PostgreSQL {row['version']}")
            if int(available) != row["seats_available"]:
                differences.append(
                    f"{keys.show(sid)}: available {int(available)} != PostgreSQL {row['seats_available']}"
                )
            if gap is not None:
                differences.append(f"{keys.show(sid)}: refused an event after a version gap ({gap.decode()})")
            for name, key, redis_set in (("HELD", keys.held(sid), held), ("BOOKED", keys.booked(sid), booked)):
                got = {s.decode() for s in redis_set}
                if got != seats[sid][name]:
                    extra = sorted(got - seats[sid][name])[:10]
                    missing = sorted(seats[sid][name] - got)[:10]
                    differences.append(f"{key}: differs from PostgreSQL (extra {extra}, missing {missing})")
    differences += await _reconcile_bookings(
        pool, owned, redis, keys, [r["show_id"] for r in shows] if show_ids is not None else None
    )
    return differences


async def _lines_and_holds(pool: asyncpg.Pool, ids: list[str]) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """Per show, PostgreSQL's waiting customers in join order and its PENDING bookings (the holds)."""
    lines: dict[str, list[str]] = {}
    for row in await pool.fetch(
        "SELECT show_id, customer_id FROM waitlist WHERE show_id = ANY($1::text[]) ORDER BY show_id, seq", ids
    ):
        lines.setdefault(row["show_id"], []).append(row["customer_id"])
    holds: dict[str, set[str]] = {}
    for row in await pool.fetch(
        "SELECT show_id, booking_id FROM bookings WHERE show_id = ANY($1::text[]) AND status = 'PENDING'", ids
    ):
        holds.setdefault(row["show_id"], set()).add(row["booking_id"])
    return lines, holds


async def _reconcile_bookings(
    pool: asyncpg.Pool, owned: list[int], redis: aioredis.Redis, keys: Keys, show_ids: list[str] | None
) -> list[str]:
    differences: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        if show_ids is None:
            cursor = conn.cursor(
                """SELECT booking_id, status, seats FROM bookings
                                    WHERE partition = ANY($1::smallint[]) ORDER BY booking_id""",
                owned,
            )
        else:
            cursor = conn.cursor(
                """SELECT booking_id, status, seats FROM bookings
                                    WHERE show_id = ANY($1::text[]) AND partition = ANY($2::smallint[])
                                    ORDER BY booking_id""",
                show_ids,
                owned,
            )
        batch: list[asyncpg.Record] = []
        async for row in cursor:
            batch.append(row)
            if len(batch) == CHUNK:
                differences += await _compare_bookings(redis, keys, batch)
                batch = []
        if batch:
            differences += await _compare_bookings(redis, keys, batch)
    return differences


async def _compare_bookings(redis: aioredis.Redis, keys: Keys, rows: list[asyncpg.Record]) -> list[str]:
    async with redis.pipeline(transaction=False) as pipe:
        for row in rows:
            pipe.hget(keys.booking(row["booking_id"]), "doc")
        docs = await pipe.execute()
    differences = []
    for row, raw in zip(rows, docs, strict=True):
        key = keys.booking(row["booking_id"])
        if raw is None:
            differences.append(f"{key}: missing (PostgreSQL status {row['status']})")
            continue
        try:
            view = _booking_view.decode(raw)
        except msgspec.DecodeError as exc:  # a document the contract does not accept is a difference too
            differences.append(f"{key}: not a booking view ({exc})")
            continue
        if view.status != row["status"]:
            differences.append(f"{key}: status {view.status} != PostgreSQL {row['status']}")
        elif view.seats != list(row["seats"]):
            differences.append(f"{key}: seats {view.seats} != PostgreSQL {list(row['seats'])}")
    return differences
