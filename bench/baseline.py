"""The seed's design, measured on the same PostgreSQL: one transaction per booking that locks the show row
(`SELECT … FOR UPDATE`), checks and decrements availability, inserts the booking, commits. One hot show,
N concurrent clients over an asyncpg pool. Lives in its own database (`<db>_bench`)."""

from __future__ import annotations

import asyncio
import glob
import os
import subprocess
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.stats import summary_ms

SCHEMA = """
CREATE TABLE IF NOT EXISTS seed_shows (id int PRIMARY KEY, total_seats int NOT NULL,
                                       available int NOT NULL CHECK (available >= 0));
CREATE TABLE IF NOT EXISTS seed_bookings (id bigserial PRIMARY KEY, show_id int NOT NULL, customer text NOT NULL,
                                          seats int NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
"""


async def bench_dsn(dsn: str) -> str:
    """The same server(s) as `dsn`, database `<db>_bench` (a multi-host DSN's query kept)."""
    url = urlsplit(dsn)
    name = f"{url.path.lstrip('/')}_bench"
    conn = await asyncpg.connect(dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlunsplit(url._replace(path=f"/{name}"))


async def _book(pool: asyncpg.Pool, customer: str) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        available = await conn.fetchval("SELECT available FROM seed_shows WHERE id = 1 FOR UPDATE")
        if available < 1:
            return False
        await conn.execute("UPDATE seed_shows SET available = available - 1 WHERE id = 1")
        await conn.execute("INSERT INTO seed_bookings (show_id, customer, seats) VALUES (1, $1, 1)", customer)
        return True


async def _client(pool: asyncpg.Pool, customer: str, deadline: float, latencies: list[float]) -> None:
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        await _book(pool, customer)
        latencies.append(time.perf_counter() - started)


async def run_baseline(dsn: str, clients: list[int], seconds: float) -> list[dict]:
    dsn = await bench_dsn(dsn)
    setup = await asyncpg.connect(dsn)
    await setup.execute(SCHEMA)
    results = []
    try:
        for n in clients:
            await setup.execute("TRUNCATE seed_bookings")
            await setup.execute("""INSERT INTO seed_shows VALUES (1, 100000000, 100000000)
                                   ON CONFLICT (id) DO UPDATE SET available = 100000000""")
            pool = await asyncpg.create_pool(dsn, min_size=n, max_size=n)
            latencies: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(*[_client(pool, f"c{i}", started + seconds, latencies) for i in range(n)])
            elapsed = time.perf_counter() - started
            await pool.close()
            booked = await setup.fetchval("SELECT count(*) FROM seed_bookings")
            sold = 100000000 - await setup.fetchval("SELECT available FROM seed_shows WHERE id = 1")
            if booked != sold or booked != len(latencies):
                raise AssertionError(
                    f"baseline invariant broken: {booked} bookings, {sold} sold, {len(latencies)} transactions"
                )
            results.append(
                {
                    "clients": n,
                    "bookings": booked,
                    "bookings_per_s": round(booked / elapsed, 1),
                    **summary_ms(latencies),
                }
            )
    finally:
        await setup.close()
    return results


# The same transaction as `_book`, driven by pgbench (C client, prepared statements): the seed design done as
# well as it can be done, so that every ratio is against its best.
PGBENCH_SCRIPT = """\\set c random(1, 1000000000)
BEGIN;
SELECT available FROM seed_shows WHERE id = 1 FOR UPDATE \\gset
\\if :available > 0
UPDATE seed_shows SET available = available - 1 WHERE id = 1;
INSERT INTO seed_bookings (show_id, customer, seats) VALUES (1, 'c' || :c, 1);
\\endif
COMMIT;
"""


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _logged_latencies(prefix: str) -> list[float]:
    """Seconds per transaction, from pgbench's per-transaction logs (third column: latency in µs)."""
    latencies: list[float] = []
    for path in glob.glob(prefix + "*"):
        with open(path) as log:
            latencies += [int(line.split()[2]) / 1e6 for line in log if line.strip()]
    return latencies


def _pgbench_binary() -> str:
    return os.path.join(os.environ.get("BOXOFFICE_PG_BIN", "/usr/lib/postgresql/15/bin"), "pgbench")


async def run_pgbench_baseline(dsn: str, clients: list[int], seconds: float) -> list[dict]:
    """pgbench -M prepared over the seed's transaction, per client count; latencies from its per-transaction
    log. The same invariant as the asyncpg rows: bookings = seats sold = transactions."""
    bench = dsn = await bench_dsn(dsn)
    setup = await asyncpg.connect(dsn)
    await setup.execute(SCHEMA)
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            script = os.path.join(tmp, "seed.sql")
            _write(script, PGBENCH_SCRIPT)
            for n in clients:
                await setup.execute("TRUNCATE seed_bookings")
                await setup.execute("""INSERT INTO seed_shows VALUES (1, 100000000, 100000000)
                                       ON CONFLICT (id) DO UPDATE SET available = 100000000""")
                prefix = os.path.join(tmp, f"log{n}")
                done = await asyncio.to_thread(
                    subprocess.run,
                    [
                        _pgbench_binary(),
                        "-n",
                        "-M",
                        "prepared",
                        "-c",
                        str(n),
                        "-j",
                        str(min(n, 2)),
                        "-T",
                        str(max(1, round(seconds))),
                        "-f",
                        script,
                        "-l",
                        "--log-prefix",
                        prefix,
                        bench,  # libpq takes the URL whole: a multi-host DSN finds the primary as asyncpg does
                    ],
                    capture_output=True,
                    text=True,
                    timeout=seconds + 120,
                )
                if done.returncode != 0:
                    raise RuntimeError(f"pgbench failed: {done.stderr[-2000:]}")
                latencies = _logged_latencies(prefix)
                tps = next(
                    float(line.split("=")[1].split()[0])
                    for line in done.stdout.splitlines()
                    if line.startswith("tps =")
                )
                booked = await setup.fetchval("SELECT count(*) FROM seed_bookings")
                sold = 100000000 - await setup.fetchval("SELECT available FROM seed_shows WHERE id = 1")
                if booked != sold or booked != len(latencies):
                    raise AssertionError(
                        f"pgbench baseline invariant broken: {booked} bookings, {sold} sold, "
                        f"{len(latencies)} transactions"
                    )
                results.append(
                    {
                        "client": "pgbench",
                        "clients": n,
                        "bookings": booked,
                        "bookings_per_s": round(tps, 1),
                        **summary_ms(latencies),
                    }
                )
    finally:
        await setup.close()
    return results
