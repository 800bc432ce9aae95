"""Processor drain: N RequestBooking commands preloaded into a topic with no processor running, then the
processor(s) started; decided bookings/s from the first decision committed to the last event published
(database timestamps), and the same including start-up and group join.

Each run has a topic of its own (`booking.commands.bench.<run>`, 12 partitions like booking.commands) with a shard map
of its own in the catalog (one shard, or p % K), decided by processors of its own group: the stack's
processor, the data of booking.commands and its shard map are not touched, and runs with 1 and 2 shards, or
1 and 2 processors, can follow each other. The rest of the system (relay, projections, notifier, both
replicas) runs as usual: it is part of the cost."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime, timedelta

from aiokafka import TopicPartition
from aiokafka.admin import NewTopic

from bench import cpu, processes
from ops.invariants import overbooking_violations
from ops.topics import durability
from runtime.clients import kafka_admin, kafka_consumer, kafka_producer, open_shards, redis_client
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


async def _end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    consumer = kafka_consumer(settings, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(topics.COMMANDS_PARTITIONS)]
        return {tp.partition: offset for tp, offset in (await consumer.end_offsets(tps)).items()}
    finally:
        await consumer.stop()


async def _bench_topic(settings: Settings, catalog: AllShards, topic: str, shards: int) -> None:
    admin = kafka_admin(settings, "boxoffice-bench")
    await admin.start()
    try:
        # The durability booking.commands has on this cluster (replication factor 3 and min.insync.replicas 2
        # on the HA topology): the drain pays what production pays.
        replication, min_isr = durability(len((await admin.describe_cluster())["brokers"]))
        configs = {"retention.ms": str(24 * 3600 * 1000), "min.insync.replicas": str(min_isr)}
        await admin.create_topics([NewTopic(topic, topics.COMMANDS_PARTITIONS, replication, topic_configs=configs)])
    finally:
        await admin.close()
    await catalog.catalog.execute(
        """INSERT INTO shard_map (topic, partition, shard)
           SELECT $1, p, p % $2 FROM generate_series(0, $3 - 1) AS p""",
        topic,
        shards,
        topics.COMMANDS_PARTITIONS,
    )


async def _send_all(producer, topic: str, commands) -> float:
    started = time.perf_counter()
    for command in commands:
        await producer.send(topic, encode_command(command), key=command.show_id.encode())
    await producer.flush()
    return time.perf_counter() - started


async def _background_work(settings: Settings, pg: AllShards) -> dict[str, int]:
    """Counters of what a run costs the servers (for the capacity model) and of the work they do on their own
    (to explain a slow run): Redis commands and AOF rewrites (a fork and a rewrite of the whole dataset);
    PostgreSQL WAL bytes, checkpoints and autovacuum runs, summed over the shards."""
    redis = redis_client(settings)
    try:
        persistence, stats = await redis.info("persistence"), await redis.info("stats")
    finally:
        await redis.aclose()
    rows = await pg.fetch("""SELECT (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) AS checkpoints,
                                    (SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0)
                                     FROM pg_stat_user_tables) AS autovacuum,
                                    pg_current_wal_lsn() - '0/0'::pg_lsn AS wal""")
    return {
        "redis_commands": int(stats.get("total_commands_processed", 0)),
        "redis_aof_rewrites": int(persistence.get("aof_rewrites", 0)),
        "pg_wal_bytes": sum(int(r["wal"]) for r in rows),
        "pg_checkpoints": sum(int(r["checkpoints"]) for r in rows),
        "pg_autovacuum_runs": sum(int(r["autovacuum"]) for r in rows),
    }


async def run_drain(
    settings: Settings,
    pg: AllShards,
    commands: int,
    shows: int,
    shards: int | None = None,
    processors: int = 1,
    profile: bool = False,
) -> dict:
    shards = shards or pg.count
    run = secrets.token_hex(3)
    per_show = -(-commands // shows)
    if per_show > MAX_SEATS:
        raise ValueError(f"{per_show} bookings per show: a show has at most {MAX_SEATS} seats")
    topic, group = f"booking.commands.bench.{run}", f"booking-processor-bench-{run}"  # (the processor's ACL prefixes)
    await _bench_topic(settings, pg, topic, shards)
    on_map = await open_shards(settings, size=4, kind=AllShards, topic=topic)  # the run's own shard map
    show_ids = [f"bench-{run}-{i}" for i in range(shows)]
    layout = _layout(max(per_show, 100))
    env = {"BOXOFFICE_PROCESSOR_TOPIC": topic, "BOXOFFICE_PROCESSOR_GROUP": group}
    logs = settings.stack_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    producer = kafka_producer(settings, linger_ms=20, max_batch_size=1024 * 1024)
    await producer.start()
    try:
        now = datetime.now(UTC)
        creator = processes.start_processor(logs / "bench-processor.log", **env)
        try:
            await _send_all(
                producer,
                topic,
                (
                    CreateShow(
                        command_id=secrets.token_hex(8),
                        show_id=show_id,
                        issued_at=now,
                        title="bench",
                        venue="bench",
                        starts_at=now + timedelta(days=30),  # a show that started is off sale (sale_closed)
                        hold_seconds=3600,
                        sections=list(layout.sections),
                    )
                    for show_id in show_ids
                ),
            )
            await _wait(
                on_map,
                "SELECT count(*) FROM shows WHERE show_id = ANY($1::text[])",
                (show_ids,),
                shows,
                600,
                "shows created",
            )
        finally:
            processes.stop(creator)
        preload_s = await _send_all(
            producer,
            topic,
            (
                RequestBooking(
                    command_id=f"{run}-{i}",
                    show_id=show_ids[i % shows],
                    issued_at=now,
                    booking_id=f"bk_bench_{run}_{i}",
                    request_id=f"bench-{run}-{i}",
                    customer_id=f"bench{i}",  # one customer per request: the per-customer limit (10 seats) holds
                    quantity=1,
                )
                for i in range(commands)
            ),
        )
        ends = await _end_offsets(settings, topic)
        rss = cpu.RssSampler(str(PROJECT_ROOT))
        sampling = asyncio.create_task(rss.run())
        background_before = await _background_work(settings, pg)
        started = time.perf_counter()
        cpu_before = cpu.snapshot(str(PROJECT_ROOT))
        procs = [processes.start_processor(logs / f"bench-processor-{n}.log", **env) for n in range(processors)]
        profilers = [
            processes.start_profiler(p, logs / f"drain-{commands}-{shows}-{n}.pyspy.txt") for n, p in enumerate(procs)
        ]
        if profile:  # flame graphs of the three hot-path workers for docs/flamegraphs/
            profilers += [
                processes.start_profiler(
                    pid, processes.FLAME_GRAPHS / f"{name}-drain-{shows}-shows.svg", force=True, fmt="flamegraph"
                )
                for name, pid in [
                    ("processor", procs[0].pid),
                    ("relay", processes.managed_pid(settings, "outbox_relay")),
                    ("projections", processes.managed_pid(settings, "projections")),
                ]
                if pid is not None
            ]
        try:
            # Cheap probes (the stored positions, the relay cursors), not counts of the bookings table, so
            # that measuring does not load the database it measures.
            await _wait(
                on_map,
                """SELECT count(*) FROM consumer_positions p
                                   JOIN unnest($2::int[], $3::bigint[]) AS e(partition, end_offset)
                                   ON p.partition = e.partition
                                   WHERE p.group_id = $1 AND p.topic = $4 AND NOT p.paused
                                   AND p.next_offset >= e.end_offset""",
                (group, list(ends), list(ends.values()), topic),
                len(ends),
                3600,
                "decisions",
            )
            await _wait(
                on_map,
                """SELECT count(*) FROM relay_cursor c WHERE NOT EXISTS (
                                       SELECT 1 FROM outbox o WHERE (o.txid, o.id) > (c.txid, c.last_id))""",
                (),
                on_map.count,
                600,
                "events published on every shard",
            )
            wall_s = time.perf_counter() - started
            cpu_used = cpu.used(cpu_before, cpu.snapshot(str(PROJECT_ROOT)))
            background = {k: v - background_before[k] for k, v in (await _background_work(settings, pg)).items()}
        finally:
            for profiler in profilers:
                processes.stop_profiler(profiler)
            for proc in procs:
                processes.stop(proc)
            sampling.cancel()
        # One row per shard: the window spans all of them. The last event published is when each shard's
        # relay cursor last moved (every event of the run is published by now).
        rows = await on_map.fetch(
            """SELECT min(b.created_at) AS first, (SELECT updated_at FROM relay_cursor) AS last
               FROM bookings b WHERE b.show_id = ANY($1::text[]) AND b.booking_id LIKE 'bk_bench_%'""",
            show_ids,
        )
        first = min(r["first"] for r in rows if r["first"] is not None)
        last = max(r["last"] for r in rows if r["last"] is not None)
        window_s = (last - first).total_seconds()
        problems = []
        for show_id in show_ids if shows <= 1000 else show_ids[:: shows // 1000]:
            problems += await overbooking_violations(on_map, show_id)
        decided = await on_map.fetchval(
            "SELECT count(*) FROM bookings WHERE show_id = ANY($1::text[]) AND status = 'PENDING'", show_ids
        )
        if decided != commands:
            problems.append(f"{commands - decided} requests not held although every show had room")
        if problems:
            raise AssertionError("drain invariants broken: " + "; ".join(problems[:5]))
    finally:
        await producer.stop()
        await on_map.close()
    return {
        "commands": commands,
        "shows": shows,
        "shards": shards,
        "processors": processors,
        "preload_s": round(preload_s, 2),
        "decided_per_s": round(commands / window_s, 1),
        "window_s": round(window_s, 3),
        "with_startup_per_s": round(commands / wall_s, 1),
        "wall_s": round(wall_s, 2),
        # CPU seconds per component over the drain (start-up included), and per 1,000 decisions.
        "cpu_s": cpu_used,
        "cpu_ms_per_1000": {k: round(v * 1e6 / commands, 1) for k, v in cpu_used.items()},
        "peak_rss_mib": rss.peaks(),
        "background_work": background,
    }
