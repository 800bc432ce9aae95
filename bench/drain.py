"""Processor drain: N RequestBooking commands preloaded into booking.commands with no processor running,
then a processor started; decided bookings/s from the first decision committed to the last event published
(database timestamps), and the same including the processor's start-up and group join."""
from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime

from aiokafka import TopicPartition

from bench import cpu, processes
from ops.invariants import overbooking_violations
from runtime.clients import kafka_consumer, kafka_producer, topic_partitions
from runtime.settings import PROJECT_ROOT, Settings
from runtime.shards import AllShards
from schemas import topics
from schemas.commands import CreateShow, RequestBooking, encode_command
from schemas.fields import MAX_SEATS
from schemas.layout import Layout, Section


def _layout(seats: int) -> Layout:
    """Sections of at most 200 rows x 200 seats holding `seats` seats."""
    per_row = min(200, seats)
    rows_left, sections = -(-seats // per_row), []
    while rows_left > 0:
        rows = min(200, rows_left)
        sections.append(Section(f"S{len(sections)}", rows, per_row, 100))
        rows_left -= rows
    return Layout(tuple(sections))


async def _wait(pg: AllShards, query: str, args: tuple, want: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while (got := await pg.fetchval(query, *args)) < want:
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: {got} of {want} after {timeout}s")
        await asyncio.sleep(0.05)


async def _command_end_offsets(settings: Settings) -> dict[int, int]:
    consumer = kafka_consumer(settings, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(topics.COMMANDS, p) for p in sorted(await topic_partitions(consumer, topics.COMMANDS))]
        return {tp.partition: offset for tp, offset in (await consumer.end_offsets(tps)).items()}
    finally:
        await consumer.stop()


async def run_drain(settings: Settings, pg: AllShards, commands: int, shows: int) -> dict:
    run = secrets.token_hex(3)
    per_show = commands // shows
    if per_show > MAX_SEATS:
        raise ValueError(f"{per_show} bookings per show: a show has at most {MAX_SEATS} seats")
    show_ids = [f"bench-{run}-{i}" for i in range(shows)]
    layout = _layout(max(per_show, 100))
    producer = kafka_producer(settings, linger_ms=20, max_batch_size=1024 * 1024)
    await producer.start()
    try:
        now = datetime.now(UTC)
        for show_id in show_ids:  # created by the running processor
            await producer.send(topics.COMMANDS, encode_command(CreateShow(
                command_id=secrets.token_hex(8), show_id=show_id, issued_at=now, title="bench", venue="bench",
                starts_at=datetime.now(UTC), hold_seconds=3600, sections=list(layout.sections))), key=show_id.encode())
        await producer.flush()
        await _wait(pg, "SELECT count(*) FROM shows WHERE show_id = ANY($1::text[])", (show_ids,), shows, 120,
                    "shows created")
        managed = processes.stop_managed(settings, "booking_processor")
        try:
            started = time.perf_counter()
            for i in range(commands):
                show_id = show_ids[i % shows]
                await producer.send(topics.COMMANDS, encode_command(RequestBooking(
                    command_id=f"{run}-{i}", show_id=show_id, issued_at=now, booking_id=f"bk_bench_{run}_{i}",
                    request_id=f"bench-{run}-{i}", customer_id=f"bench{i % 5000}", quantity=1)), key=show_id.encode())
            await producer.flush()
            preload_s = time.perf_counter() - started
            ends = await _command_end_offsets(settings)
            log = settings.stack_dir / "logs" / "bench-processor.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            cpu_before = cpu.snapshot(str(PROJECT_ROOT))
            proc = processes.start_processor(log)
            profiler = processes.start_profiler(proc, settings.stack_dir / "logs" / f"drain-{shows}.pyspy.txt")
            try:
                # Cheap probes (the stored positions, the unpublished-outbox index), not counts of the
                # bookings table, so that measuring does not load the database it measures.
                await _wait(pg, """SELECT count(*) FROM consumer_positions p
                                   JOIN unnest($2::int[], $3::bigint[]) AS e(partition, end_offset)
                                   ON p.partition = e.partition
                                   WHERE p.group_id = $1 AND p.topic = 'booking.commands'
                                   AND p.next_offset >= e.end_offset""",
                            (settings.processor_group, list(ends), list(ends.values())), len(ends), 600, "decisions")
                await _wait(pg, """SELECT count(*) FROM relay_cursor c WHERE NOT EXISTS (
                                       SELECT 1 FROM outbox o WHERE (o.txid, o.id) > (c.txid, c.last_id))""",
                            (), pg.count, 120, "events published on every shard")
                wall_s = time.perf_counter() - started
                cpu_used = cpu.used(cpu_before, cpu.snapshot(str(PROJECT_ROOT)))
            finally:
                processes.stop_profiler(profiler)
                processes.stop(proc)
        finally:
            if managed:
                processes.restore_managed(settings)
    finally:
        await producer.stop()
    # One row per shard: the window spans all of them. The last event published is when each shard's relay
    # cursor last moved (the drain was the only writer, and every event of it is published by now).
    rows = await pg.fetch(
        """SELECT min(b.created_at) AS first, (SELECT updated_at FROM relay_cursor) AS last
           FROM bookings b WHERE b.show_id = ANY($1::text[])""", show_ids)
    first = min(r["first"] for r in rows if r["first"] is not None)
    last = max(r["last"] for r in rows if r["last"] is not None)
    window_s = (last - first).total_seconds()
    problems = []
    for show_id in show_ids:
        problems += await overbooking_violations(pg, show_id)
    decided = await pg.fetchval("SELECT count(*) FROM bookings WHERE show_id = ANY($1::text[]) AND status = 'PENDING'",
                                show_ids)
    if decided != commands:
        problems.append(f"{commands - decided} requests not held although every show had room")
    if problems:
        raise AssertionError("drain invariants broken: " + "; ".join(problems[:5]))
    return {"commands": commands, "shows": shows, "preload_s": round(preload_s, 2),
            "decided_per_s": round(commands / window_s, 1), "window_s": round(window_s, 3),
            "with_startup_per_s": round(commands / wall_s, 1), "wall_s": round(wall_s, 2),
            # CPU seconds per component over the drain (start-up included), and per 1,000 decisions.
            "cpu_s": cpu_used,
            "cpu_ms_per_1000": {k: round(v * 1e6 / commands, 1) for k, v in cpu_used.items()}}
