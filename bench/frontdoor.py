"""The front door side by side in one run: a closed-loop maximum with wrk (C, a Lua script giving each request its
own token and Idempotency-Key: bench/wrk/bookings.lua) against boxoffice through NGINX, then against the seed's
synchronous design over HTTP (bench/seed_http.py: starlette + asyncpg, the same JWT check, one `SELECT … FOR
UPDATE` transaction per booking, two uvicorn workers), on the same machine, the same PostgreSQL. Per side:
accepted/s, errors, latency p50/p90/p99 (wrk's), CPU per request per component; the ratio of the two is the
headline. Every request accepted by boxoffice is checked decided in PostgreSQL, with no seat sold twice.

The machine is described in the results (CPU model and MHz, steal time during the run, a fixed calibration loop's
time) so that a slower machine can be told from a regression: compare ratios, not absolute figures."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import asyncpg
import msgspec

from bench import cpu
from bench.baseline import SCHEMA, bench_dsn
from bench.http_client import ConnectionPool
from bench.http_load import _create_show
from bench.machine import machine, steal_s, steal_ticks
from intake import credentials
from intake.tokens import Signer, mint
from ops.invariants import overbooking_violations
from runtime.clients import owner_dsn
from runtime.settings import PROJECT_ROOT, Settings
from runtime.shards import AllShards

LUA = PROJECT_ROOT / "bench" / "wrk" / "bookings.lua"
SEED_PORT = int(os.environ.get("BOXOFFICE_SEED_HTTP_PORT", "8090"))


def _wrk(url: str, tokens_file: Path, seconds: int, connections: int, read: bool = False) -> dict:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is missing: `make install` installs Debian's wrk")
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        env = {**os.environ, "TOKENS": str(tokens_file), "SUMMARY_OUT": str(summary), "READ": "1" if read else "0"}
        done = subprocess.run(
            [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA), url],
            env=env,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed: {done.stderr[-2000:]}")
        out = msgspec.json.decode(summary.read_bytes())
    seconds_run = out["duration_us"] / 1e6
    errors = out["non_2xx"] + out["connect"] + out["read"] + out["write"] + out["timeout"]
    return {
        "requests": out["requests"],
        "accepted": out["requests"] - errors,
        "accepted_per_s": round((out["requests"] - errors) / seconds_run, 1),
        "errors": {k: out[k] for k in ("non_2xx", "connect", "read", "write", "timeout")},
        "p50_ms": out["p50_us"] / 1000,
        "p90_ms": out["p90_us"] / 1000,
        "p99_ms": out["p99_us"] / 1000,
        "seconds": seconds_run,
    }


async def _measured(run, *args) -> dict:
    before, steal = cpu.snapshot(), steal_ticks()
    result = await asyncio.to_thread(run, *args)
    after = cpu.snapshot()
    spent = cpu.used(before, after)
    result["cpu_ms_per_request"] = {k: round(1000 * v / max(result["accepted"], 1), 3) for k, v in spent.items()}
    result["steal_s"] = steal_s(steal)
    return result


def _start_seed(env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    with open(log_dir / "bench-seed-http.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bench.seed_http"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )


async def _seed_side(settings: Settings, tokens_file: Path, seconds: int, connections: int, log_dir: Path) -> dict:
    dsn = await bench_dsn(owner_dsn(settings))
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SCHEMA)
        await conn.execute("TRUNCATE seed_bookings")
        await conn.execute("""INSERT INTO seed_shows VALUES (1, 100000000, 100000000)
                              ON CONFLICT (id) DO UPDATE SET available = 100000000""")
    finally:
        await conn.close()
    env = {
        **os.environ,
        "BOXOFFICE_SEED_HTTP_DSN": dsn,
        "BOXOFFICE_SEED_HTTP_PORT": str(SEED_PORT),
        "BOXOFFICE_AUTH_JWKS": settings.require_auth_jwks(),
    }
    proc = _start_seed(env, log_dir)
    try:
        for _ in range(300):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", SEED_PORT)) == 0:
                    break
            await asyncio.sleep(0.1)
        result = await _measured(_wrk, f"http://127.0.0.1:{SEED_PORT}/book", tokens_file, seconds, connections)
    finally:
        proc.terminate()
        proc.wait(30)
    conn = await asyncpg.connect(dsn)
    try:
        booked = await conn.fetchval("SELECT count(*) FROM seed_bookings")
        left = await conn.fetchval("SELECT available FROM seed_shows WHERE id = 1")
    finally:
        await conn.close()
    # as on boxoffice's side, a request in flight when wrk stopped may have been booked, not counted
    if not result["accepted"] <= booked <= result["accepted"] + connections or booked + left != 100_000_000:
        raise AssertionError(f"seed baseline: {result['accepted']} answered 201, {booked} booked, {left} left")
    return result


async def run_frontdoor(settings: Settings, pg: AllShards, seconds: int = 20, connections: int = 64) -> dict:
    """Both sides, boxoffice first; raises when an invariant breaks."""
    signer = credentials.signer(settings)
    run = os.urandom(3).hex()
    log_dir = settings.stack_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tokens_file = Path(tmp) / "tokens"
        tokens_file.write_text("\n".join(mint(signer, f"wrk-{run}-{i}", ttl=3600) for i in range(20_000)) + "\n")
        base = f"http://127.0.0.1:{settings.http_port}"
        pool = ConnectionPool("127.0.0.1", settings.http_port, 2)
        try:
            show_id = await _create_show(pool, mint(signer, "bench-admin", "admin"), 100_000)
        finally:
            pool.close()
        boxoffice = await _measured(_wrk, f"{base}/v1/shows/{show_id}/bookings", tokens_file, seconds, connections)
        decided = 0
        for _ in range(240):  # every accepted request decided within 120 s
            decided = await pg.fetchval("SELECT count(*) FROM bookings WHERE show_id = $1", show_id)
            if decided >= boxoffice["accepted"]:
                break
            await asyncio.sleep(0.5)
        # wrk counts the answers it read: a request still in flight when it stopped (at most one per
        # connection) may have been accepted and decided without being counted
        if not boxoffice["accepted"] <= decided <= boxoffice["accepted"] + connections:
            raise AssertionError(f"boxoffice: {boxoffice['accepted']} accepted, {decided} decided after 120 s")
        for _ in range(40):  # the check reads in several statements: the last in-flight decisions settle first
            if not (problems := await overbooking_violations(pg, show_id)):
                break
            await asyncio.sleep(0.25)
        if problems:
            raise AssertionError(problems)
        boxoffice["decided"] = decided
        seat_map = await _seat_map_reads(settings, signer, tokens_file, seconds, connections)
        seed = await _seed_side(settings, tokens_file, seconds, connections, log_dir)
    return {
        "machine": machine(),
        "connections": connections,
        "seconds": seconds,
        "boxoffice": boxoffice,
        "seed_over_http": seed,
        "ratio": round(boxoffice["accepted_per_s"] / max(seed["accepted_per_s"], 1e-9), 2),
        "seat_map_reads": seat_map,
    }


async def _seat_map_reads(
    settings: Settings, signer: Signer, tokens_file: Path, seconds: int, connections: int
) -> dict:
    """Anonymous reads of one 100,000-seat show's map through NGINX (its micro-cache included), 100 seats held."""
    pool = ConnectionPool("127.0.0.1", settings.http_port, 2)
    try:
        show_id = await _create_show(pool, mint(signer, "bench-admin", "admin"), 100_000)
        token = mint(signer, f"bench-reader-{os.urandom(3).hex()}", ttl=3600)
        for i in range(10):
            status, _ = await pool.request(
                "POST",
                f"/v1/shows/{show_id}/bookings",
                {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": f"r{i}"},
                b'{"quantity": 10}',
            )
            assert status == 202, status
        path = f"/v1/shows/{show_id}/seats"
        for _ in range(200):
            status, body = await pool.request("GET", path, {})
            if status == 200 and len(msgspec.json.decode(body)["held"]) == 100:
                break
            await asyncio.sleep(0.1)
    finally:
        pool.close()
    url = f"http://127.0.0.1:{settings.http_port}{path}"
    result = await _measured(_wrk, url, tokens_file, seconds, connections, True)
    result["body_bytes"] = len(body)
    return result
