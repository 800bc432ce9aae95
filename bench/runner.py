"""`boxoffice bench` / `make bench`: benchmarks against the running stack; prints tables and writes
bench-results/latest.json with the machine's core count and the versions used (`--plots` draws the cost
curves of a results file into docs/bench/).

Parts: `baseline` (the seed's transaction: pgbench and asyncpg, 1/8/32/64 clients), `drain` (the processor
on one hot show and on 1,000 shows; `--repeat 3` for a median and the spread), `http` (end to end through
NGINX, open loop, stepped rates), `seatmap` (cost by show size), `curves` (drain as the data grows, as
shows multiply, with 1 or 2 processors and 1 or 2 shards). Every run checks its invariants and fails
loudly when one breaks."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import time
from datetime import UTC, datetime
from importlib import metadata

from bench.baseline import run_baseline, run_pgbench_baseline
from bench.drain import run_drain
from bench.http_load import run_http_load
from bench.machine import machine, steal_s, steal_ticks
from bench.seatmap import run_seatmap
from bench.stats import table
from runtime.clients import open_shards, owner_dsn, pg_env, redis_client
from runtime.settings import PROJECT_ROOT, Settings
from runtime.shards import AllShards

BASELINE_CLIENTS = [1, 8, 32, 64]


def _versions(pg_version: str) -> dict[str, str]:
    versions = {"python": platform.python_version(), "postgresql": pg_version}
    for package in ("aiokafka", "asyncpg", "redis", "starlette", "uvicorn", "msgspec"):
        versions[package] = metadata.version(package)
    kafka_jars = list((PROJECT_ROOT / ".cache" / "kafka-libs").glob("kafka_2.13-*.jar"))
    versions["kafka"] = kafka_jars[0].stem.split("-", 1)[1] if kafka_jars else "?"
    try:
        versions["redis_server"] = (
            subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
            .stdout.split()[2]
            .removeprefix("v=")
        )
    except (OSError, IndexError):
        versions["redis_server"] = "?"
    return versions


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
        "runs": values,
    }


def _drain_row(label: str, r: dict) -> list:
    return [
        label,
        r["commands"],
        r["shows"],
        r["shards"],
        r["processors"],
        r["decided_per_s"],
        r["with_startup_per_s"],
        r["window_s"],
    ]


DRAIN_COLUMNS = ["load", "commands", "shows", "shards", "processors", "decided/s", "incl. start-up/s", "window s"]


async def _baseline(settings: Settings, seconds: float) -> list[dict]:
    dsn = owner_dsn(settings)  # the seed's design lives in a database of its own, which the owner role makes
    rows = await run_pgbench_baseline(dsn, BASELINE_CLIENTS, seconds)
    rows += [{"client": "asyncpg", **r} for r in await run_baseline(dsn, BASELINE_CLIENTS, seconds)]
    print(
        table(
            "Baseline: the seed's transaction (lock the show row, check, decrement, insert, commit) on one "
            "hot show, the same PostgreSQL",
            ["client", "clients", "bookings/s", "p50 ms", "p99 ms"],
            [[r["client"], r["clients"], r["bookings_per_s"], r["p50_ms"], r["p99_ms"]] for r in rows],
        ),
        "\n",
    )
    return rows


async def _curves(settings: Settings, pg: AllShards, results: dict) -> None:
    curves: dict[str, list[dict]] = {"size": [], "shows": [], "processors": [], "shards": []}
    for commands in (10_000, 100_000, 1_000_000):  # the tables grow as the runs go
        curves["size"].append(await run_drain(settings, pg, commands, max(1, commands // 100_000)))
    for shows in (1, 1000, 100_000):
        curves["shows"].append(await run_drain(settings, pg, 100_000, shows))
    for processors in (1, 2):
        curves["processors"].append(await run_drain(settings, pg, 100_000, 1000, processors=processors))
    for shards in (1, 2):
        curves["shards"].append(await run_drain(settings, pg, 100_000, 1000, shards=shards))
    results["curves"] = curves
    rows = []
    for name, runs in curves.items():
        rows += [_drain_row(name, r) for r in runs]
    print(table("Cost curves: processor drain as the work grows", DRAIN_COLUMNS, rows), "\n")


async def run(args: argparse.Namespace, settings: Settings, results: dict) -> None:
    """Fills `results` part by part (what was measured survives a later part's failure)."""
    pg = await open_shards(settings, size=4, kind=AllShards)  # reads across every shard
    results.update(
        {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {**machine(), "platform": platform.platform()},  # CPU model, MHz, the calibration loop
            "versions": _versions(await pg.fetchval("SHOW server_version")),
            "shards": pg.count,
        }
    )
    selected = set(args.only or ["baseline", "drain", "http", "seatmap"])
    try:
        for repeat in range(args.repeat):
            suffix = f" (run {repeat + 1} of {args.repeat})" if args.repeat > 1 else ""
            if "baseline" in selected:
                results.setdefault("baseline_runs", []).append(await _baseline(settings, args.seconds))
            if "drain" in selected:
                hot = await run_drain(settings, pg, args.commands, 1, profile=args.profile)
                spread = await run_drain(settings, pg, args.commands, 1000, profile=args.profile)
                results.setdefault("drain_runs", []).append({"hot_show": hot, "spread_1000_shows": spread})
                print(
                    table(
                        "Processor drain (preloaded commands)" + suffix,
                        DRAIN_COLUMNS,
                        [_drain_row("1 hot show", hot), _drain_row("1,000 shows", spread)],
                    ),
                    "\n",
                )
        if "frontdoor" in selected:
            from bench.frontdoor import run_frontdoor

            front = await run_frontdoor(settings, pg, seconds=max(int(args.seconds), 20), connections=args.connections)
            results["frontdoor"] = front
            print(_frontdoor_table(front), "\n")
        if "baseline_runs" in results:
            results["baseline"] = results["baseline_runs"][-1]
        if "drain_runs" in results:
            runs = results["drain_runs"]
            results["drain"] = {
                "hot_show": _spread([r["hot_show"]["decided_per_s"] for r in runs]),
                "spread_1000_shows": _spread([r["spread_1000_shows"]["decided_per_s"] for r in runs]),
            }
        if "baseline_runs" in results and "drain_runs" in results:
            ratios = []
            for baseline, drain in zip(results["baseline_runs"], results["drain_runs"], strict=True):
                best = max(r["bookings_per_s"] for r in baseline)  # against the best of every baseline row
                ratios.append(round(drain["hot_show"]["decided_per_s"] / best, 1))
            results["ratios"] = {"drain_hot_vs_best_baseline": _spread(ratios)}
            d = results["drain"]
            print(
                f"Hot-show drain: median {d['hot_show']['median']:,.0f}/s (runs {d['hot_show']['runs']}); "
                f"1,000 shows: median {d['spread_1000_shows']['median']:,.0f}/s; vs the best baseline row of the "
                f"same run: median {results['ratios']['drain_hot_vs_best_baseline']['median']}x "
                f"(runs {ratios})\n"
            )
        if "curves" in selected:
            await _curves(settings, pg, results)
        if "http" in selected:
            redis = redis_client(settings)
            try:
                http = await run_http_load(
                    settings, pg, redis, args.rates, args.seconds, args.connections, profile=args.profile
                )
            finally:
                await redis.aclose()
            results["http"] = http
            print(
                table(
                    "End to end through NGINX (open loop; latency from the scheduled send time)",
                    [
                        "offered/s",
                        "accepted/s",
                        "errors",
                        "accept p50",
                        "accept p99",
                        "decision p50",
                        "decision p99",
                        "sustained",
                        "intake req/s per core",
                    ],
                    [
                        [
                            s["offered_per_s"],
                            s["accepted_per_s"],
                            sum(s["errors"].values()),
                            s["accept"]["p50_ms"],
                            s["accept"]["p99_ms"],
                            s["decision"]["p50_ms"],
                            s["decision"]["p99_ms"],
                            "yes" if s["sustained"] else "no",
                            s["intake_per_core_per_s"],
                        ]
                        for s in http["steps"]
                    ],
                )
            )
            print(f"highest rate sustained with p99 decision < 250 ms: {http['highest_sustained_per_s']}/s\n")
        if "seatmap" in selected:
            redis = redis_client(settings)
            try:
                seatmap = await run_seatmap(redis)
            finally:
                await redis.aclose()
            results["seatmap"] = seatmap
            rows = [
                [
                    f"{r['seats']:,}",
                    r["taken"],
                    r["apply"]["p50_ms"],
                    r["apply"]["p99_ms"],
                    r["read"]["p50_ms"],
                    r["read"]["p99_ms"],
                    r["read_new_version"]["p50_ms"],
                    r["read_new_version"]["p99_ms"],
                ]
                for r in seatmap["same_50_taken"] + seatmap["half_taken"]
            ]
            print(
                table(
                    "Seat-map cost by show size (ms; apply = one event; read = the GET …/seats handler's work, "
                    "same version / new version)",
                    ["seats", "taken", "apply p50", "apply p99", "read p50", "read p99", "new-ver p50", "new-ver p99"],
                    rows,
                )
            )
            print(
                f"100,000 vs 100 seats (same 50 taken): apply {seatmap['ratio_100k_vs_100_apply_p50']}x, "
                f"read {seatmap['ratio_100k_vs_100_read_p50']}x, "
                f"read of a new version {seatmap['ratio_100k_vs_100_read_new_version_p50']}x\n"
            )
    finally:
        await pg.close()


def _frontdoor_table(front: dict) -> str:
    rows = []
    for label, side in (
        ("boxoffice through NGINX", front["boxoffice"]),
        ("seed design over HTTP", front["seed_over_http"]),
        ("seat-map reads, 100,000 seats (GET)", front["seat_map_reads"]),
    ):
        own = {
            "boxoffice through NGINX": ("intake", "nginx", "kafka", "redis"),
            "seed design over HTTP": ("seed over HTTP", "postgres: sessions", "load generator"),
            "seat-map reads, 100,000 seats (GET)": ("intake", "nginx", "redis"),
        }
        cost = side["cpu_ms_per_request"]
        rows.append(
            [
                label,
                f"{side['accepted_per_s']:,.0f}",
                sum(side["errors"].values()),
                f"{side['p50_ms']:.1f}",
                f"{side['p99_ms']:.1f}",
                " ".join(f"{k} {cost.get(k, 0):.3f}" for k in own[label]),
            ]
        )
    machine = front["machine"]
    return table(
        f"Front door, closed loop (wrk, {front['connections']} connections, {front['seconds']} s; a token and key per "
        f"request): {front['ratio']}x the seed design; {machine['cpu_model']}, calibration loop "
        f"{machine['calibration_s']} s",
        ["side", "accepted/s", "errors", "p50 ms", "p99 ms", "CPU ms per request"],
        rows,
    )


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="boxoffice bench")
    parser.add_argument(
        "--only", action="append", choices=["baseline", "drain", "http", "seatmap", "curves", "frontdoor"]
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each timed step")
    parser.add_argument("--commands", type=int, default=100_000, help="commands per drain run")
    parser.add_argument("--repeat", type=int, default=1, help="baseline and drain runs (median and spread)")
    parser.add_argument(
        "--rates",
        type=float,
        nargs="+",
        default=[250, 500, 750, 1000, 1250, 1500, 2000],
        help="offered request rates of the HTTP steps",
    )
    parser.add_argument("--connections", type=int, default=64, help="HTTP keep-alive connections")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy flame graphs (docs/flamegraphs/): processor, relay and projections in the "
        "drain, an intake in each HTTP step",
    )
    parser.add_argument("--out", default=str(PROJECT_ROOT / "bench-results" / "latest.json"))
    parser.add_argument("--plots", metavar="RESULTS_JSON", help="draw the cost curves of a results file and exit")
    args = parser.parse_args(argv)
    if args.plots:
        from bench.plots import draw

        for path in draw(args.plots, PROJECT_ROOT / "docs" / "bench"):
            print(path)
        return 0
    settings = settings or Settings.from_env()
    os.environ.update(pg_env(settings))  # the passwords, for pgbench and the seed's own connections
    started, steal = time.perf_counter(), steal_ticks()
    results: dict = {}
    try:
        asyncio.run(run(args, settings, results))
    except BaseException as exc:
        results["failed"] = repr(exc)  # the parts measured before the failure are kept; the run still fails
        raise
    finally:
        results["duration_s"] = round(time.perf_counter() - started, 1)
        results["steal_s"] = round(steal_s(steal), 2)  # the hypervisor's share of the run: a slower machine, not code
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
        print(f"results written to {args.out}")
    return 0
