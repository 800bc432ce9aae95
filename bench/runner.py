"""`boxoffice bench` / `make bench`: every benchmark against the running stack; prints tables and writes
bench-results/latest.json with the machine's core count and the versions used."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import time
from datetime import UTC, datetime
from importlib import metadata

from bench.baseline import run_baseline
from bench.drain import run_drain
from bench.http_load import run_http_load
from bench.seatmap import run_seatmap
from bench.stats import table
from runtime.clients import open_shards, redis_client
from runtime.settings import PROJECT_ROOT, Settings
from runtime.shards import AllShards


def _versions(pg_version: str) -> dict[str, str]:
    versions = {"python": platform.python_version(), "postgresql": pg_version}
    for package in ("aiokafka", "asyncpg", "redis", "starlette", "uvicorn", "orjson"):
        versions[package] = metadata.version(package)
    kafka_jars = list((PROJECT_ROOT / ".cache" / "kafka-libs").glob("kafka_2.13-*.jar"))
    versions["kafka"] = kafka_jars[0].stem.split("-", 1)[1] if kafka_jars else "?"
    try:
        versions["redis_server"] = subprocess.run(["redis-server", "--version"], capture_output=True,
                                                  text=True).stdout.split()[2].removeprefix("v=")
    except (OSError, IndexError):
        versions["redis_server"] = "?"
    return versions


async def run(args: argparse.Namespace, settings: Settings) -> dict:
    pg = await open_shards(settings, size=4, kind=AllShards)  # reads across every shard
    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform()},
        "versions": _versions(await pg.fetchval("SHOW server_version")),
    }
    selected = set(args.only or ["baseline", "drain", "http", "seatmap"])
    try:
        if "baseline" in selected:
            rows = await run_baseline(settings.pg_dsn, [1, 8, 32, 64], args.seconds)
            results["baseline"] = rows
            print(table("Baseline: seed design, one transaction per booking, one hot show (asyncpg)",
                        ["clients", "bookings/s", "p50 ms", "p99 ms"],
                        [[r["clients"], r["bookings_per_s"], r["p50_ms"], r["p99_ms"]] for r in rows]), "\n")
        if "drain" in selected:
            hot = await run_drain(settings, pg, args.commands, 1)
            spread = await run_drain(settings, pg, args.commands, 1000)
            results["drain"] = {"hot_show": hot, "spread_1000_shows": spread}
            print(table("Processor drain (preloaded booking.commands)",
                        ["load", "commands", "decided/s", "incl. start-up/s", "window s"],
                        [["1 hot show", hot["commands"], hot["decided_per_s"], hot["with_startup_per_s"],
                          hot["window_s"]],
                         ["1,000 shows", spread["commands"], spread["decided_per_s"],
                          spread["with_startup_per_s"], spread["window_s"]]]), "\n")
        if "http" in selected:
            redis = redis_client(settings)
            try:
                http = await run_http_load(settings, pg, redis, args.rates, args.seconds, args.connections)
            finally:
                await redis.aclose()
            results["http"] = http
            print(table("End to end over HTTP (open loop; latency from the scheduled send time)",
                        ["offered/s", "accepted/s", "errors", "accept p50", "accept p99", "decision p50",
                         "decision p99", "sustained"],
                        [[s["offered_per_s"], s["accepted_per_s"], sum(s["errors"].values()), s["accept"]["p50_ms"],
                          s["accept"]["p99_ms"], s["decision"]["p50_ms"], s["decision"]["p99_ms"],
                          "yes" if s["sustained"] else "no"] for s in http["steps"]]))
            print(f"highest rate sustained with p99 decision < 250 ms: {http['highest_sustained_per_s']}/s\n")
        if "seatmap" in selected:
            redis = redis_client(settings)
            try:
                seatmap = await run_seatmap(redis)
            finally:
                await redis.aclose()
            results["seatmap"] = seatmap
            rows = [[f"{r['seats']:,}", r["taken"], r["apply"]["p50_ms"], r["apply"]["p99_ms"], r["read"]["p50_ms"],
                     r["read"]["p99_ms"], r["read_new_version"]["p50_ms"], r["read_new_version"]["p99_ms"]]
                    for r in seatmap["same_50_taken"] + seatmap["half_taken"]]
            print(table("Seat-map cost by show size (ms; apply = one event; read = the GET …/seats handler's work, "
                        "same version / new version)",
                        ["seats", "taken", "apply p50", "apply p99", "read p50", "read p99", "new-ver p50",
                         "new-ver p99"], rows))
            print(f"100,000 vs 100 seats (same 50 taken): apply {seatmap['ratio_100k_vs_100_apply_p50']}x, "
                  f"read {seatmap['ratio_100k_vs_100_read_p50']}x, "
                  f"read of a new version {seatmap['ratio_100k_vs_100_read_new_version_p50']}x\n")
        if "baseline" in results and "drain" in results:
            best = max(r["bookings_per_s"] for r in results["baseline"])
            ratio = round(results["drain"]["hot_show"]["decided_per_s"] / best, 1)
            results["ratios"] = {"drain_hot_vs_best_baseline": ratio}
            print(f"Processor drain on one hot show / best baseline: {ratio}x\n")
    finally:
        await pg.close()
    return results


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="boxoffice bench")
    parser.add_argument("--only", action="append", choices=["baseline", "drain", "http", "seatmap"])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each timed step")
    parser.add_argument("--commands", type=int, default=100_000, help="commands per drain run")
    parser.add_argument("--rates", type=float, nargs="+", default=[500, 1000, 2000, 3000],
                        help="offered request rates of the HTTP steps")
    parser.add_argument("--connections", type=int, default=64, help="HTTP keep-alive connections")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "bench-results" / "latest.json"))
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env()
    started = time.perf_counter()
    results = asyncio.run(run(args, settings))
    results["duration_s"] = round(time.perf_counter() - started, 1)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"results written to {args.out}")
    return 0
