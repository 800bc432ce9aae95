"""Seat-map cost against show size: the time to apply one booking event (the projection's Lua script, one
round trip) and to read the seat map (the code behind GET /v1/shows/{id}/seats), for shows of 100, 10,000
and 100,000 seats. Two fillings: the same 50 seats taken in every show (the cost of the size alone), and
half of every show taken (a read returns every held or booked seat, so it grows with them)."""

from __future__ import annotations

import secrets
import time

import msgspec
import redis.asyncio as aioredis

from bench.stats import summary_ms
from projections.apply import EventApplier
from projections.keys import Keys
from projections.reads import ReadModels
from schemas.events import event_from_dict

SIZES = (100, 10_000, 100_000)


SEATS_PER_ROW, ROWS_PER_SECTION = 100, 200  # the contract's limits: a section has at most 200 rows
PER_SECTION = SEATS_PER_ROW * ROWS_PER_SECTION


def _sections(seats: int) -> list[dict]:
    rows = -(-seats // SEATS_PER_ROW)
    return [
        {
            "name": f"S{i}",
            "rows": min(ROWS_PER_SECTION, rows - i * ROWS_PER_SECTION),
            "seats_per_row": SEATS_PER_ROW,
            "price_cents": 1,
        }
        for i in range(-(-rows // ROWS_PER_SECTION))
    ]


def _show_event(show_id: str, seats: int) -> dict:
    return {
        "type": "ShowCreated",
        "event_id": f"{show_id}/1",
        "show_id": show_id,
        "show_version": 1,
        "occurred_at": "2026-01-01T00:00:00.000Z",
        "title": "bench",
        "venue": "bench",
        "starts_at": "2027-01-01T00:00:00.000Z",
        "hold_seconds": 120,
        "sections": _sections(seats),
        "seats_total": seats,
        "seats_available": seats,
        "created_at": "2026-01-01T00:00:00.000Z",
    }


def _pending(show_id: str, version: int, seat: str, available: int) -> dict:
    return {
        "type": "BookingPending",
        "event_id": f"{show_id}/{version}",
        "show_id": show_id,
        "show_version": version,
        "occurred_at": "2026-01-01T00:00:00.000Z",
        "booking_id": f"b{version}",
        "customer_id": "bench",
        "email": None,
        "phone": None,
        "seats": [seat],
        "status": "PENDING",
        "reason": None,
        "expires_at": "2026-01-01T00:02:00.000Z",
        "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": "2026-01-01T00:00:00.000Z",
        "seats_available": available,
    }


def _seat(n: int) -> str:
    section, within = divmod(n, PER_SECTION)
    return f"S{section}-{within // SEATS_PER_ROW + 1}-{within % SEATS_PER_ROW + 1}"


async def _measure(redis: aioredis.Redis, keys: Keys, seats: int, taken: int, applies: int, reads: int) -> dict:
    applier = EventApplier(redis)
    show_id = f"seatmap-{secrets.token_hex(4)}"
    await applier.apply([event_from_dict(_show_event(show_id, seats))], keys)
    version = 1
    for start in range(0, taken, 5000):
        chunk = []
        for n in range(start, min(taken, start + 5000)):
            version += 1
            chunk.append(event_from_dict(_pending(show_id, version, _seat(n), seats - n - 1)))
        await applier.apply(chunk, keys)
    apply_latency = []
    seat = _seat(taken % seats)
    for i in range(applies):  # one event, one round trip, as the projection consumer does at low load
        version += 1
        # Hold one more seat, then cancel that hold: every apply is real and the occupancy stays `taken`.
        event = _pending(show_id, version, seat, seats - taken - 1)
        if i % 2:
            event.update(type="BookingCancelled", status="CANCELLED", seats_available=seats - taken)
        typed = event_from_dict(event)
        started = time.perf_counter()
        await applier.apply([typed], keys)
        apply_latency.append(time.perf_counter() - started)
    reader = ReadModels(redis, namespace=keys.namespace)
    read_latency, fresh_latency = [], []
    for _ in range(reads):
        started = time.perf_counter()
        body = await reader.seat_map_json(show_id)
        read_latency.append(time.perf_counter() - started)
        reader.forget_rendered()  # the same read when every request finds a new version
        started = time.perf_counter()
        await reader.seat_map_json(show_id)
        fresh_latency.append(time.perf_counter() - started)
    seat_map = msgspec.json.decode(body or b"null")
    assert seat_map is not None and len(seat_map["held"]) == taken and seat_map["version"] == version
    return {
        "seats": seats,
        "taken": taken,
        "apply": summary_ms(apply_latency),
        "read": summary_ms(read_latency),
        "read_new_version": summary_ms(fresh_latency),
    }


async def run_seatmap(redis: aioredis.Redis, applies: int = 2000, reads: int = 300) -> dict:
    keys = Keys(f"bench:seatmap:{secrets.token_hex(3)}")
    try:
        equal = [await _measure(redis, keys, size, 50, applies, reads) for size in SIZES]
        half = [await _measure(redis, keys, size, size // 2, applies // 10, max(20, reads // 10)) for size in SIZES]
    finally:
        async for key in redis.scan_iter(match=keys.pattern(), count=1000):
            await redis.unlink(key)
    small, large = equal[0], equal[-1]
    return {
        "same_50_taken": equal,
        "half_taken": half,
        "ratio_100k_vs_100_apply_p50": round(large["apply"]["p50_ms"] / small["apply"]["p50_ms"], 2),
        "ratio_100k_vs_100_read_p50": round(large["read"]["p50_ms"] / small["read"]["p50_ms"], 2),
        "ratio_100k_vs_100_read_new_version_p50": round(
            large["read_new_version"]["p50_ms"] / small["read_new_version"]["p50_ms"], 2
        ),
    }
