"""What a Redis call costs the client, one by one (redis-py's `evalsha`) against the same calls through
runtime/autopipeline.py, with N callers at once (as concurrent booking POSTs are), in one process against the
running stack's Redis. Prints CPU µs per call and calls/s. Run (after `make up`): `python -m bench.autopipeline`."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable

import uvloop

from runtime.autopipeline import AutoPipeline
from runtime.clients import redis_client
from runtime.settings import Settings

SCRIPT = "return redis.call('SET', KEYS[1], ARGV[1], 'EX', 60)"


async def _run(callers: int, calls: int, repeat: int) -> None:
    redis = redis_client(Settings.from_env(), max_connections=200)
    try:
        script = redis.register_script(SCRIPT)
        await redis.script_load(SCRIPT)
        auto = AutoPipeline(redis)
        run = secrets.token_hex(3)

        async def direct(i: int) -> None:
            for j in range(calls):
                await script(keys=[f"bench:auto:{run}:{{{i}}}:{j}"], args=["v"])

        async def pipelined(i: int) -> None:
            for j in range(calls):
                await auto.script(script, [f"bench:auto:{run}:{{{i}}}:{j}"], ["v"])

        sides: list[tuple[str, Callable[[int], Awaitable[None]]]] = [
            ("one by one", direct),
            ("auto-pipelined", pipelined),
        ]
        best: dict[str, tuple[float, float]] = {}
        for _ in range(repeat):
            for name, side in sides:
                cpu, wall = time.process_time(), time.perf_counter()
                await asyncio.gather(*(side(i) for i in range(callers)))
                per_call = (time.process_time() - cpu) / (callers * calls) * 1e6
                rate = callers * calls / (time.perf_counter() - wall)
                if name not in best or per_call < best[name][0]:
                    best[name] = (per_call, rate)
        print(f"{callers} callers x {calls} EVALSHA calls, best of {repeat}")
        base = best["one by one"][0]
        for name, (per_call, rate) in best.items():
            print(f"{name:16} {per_call:7.1f} µs CPU per call  {rate:9,.0f} calls/s  {base / per_call:5.2f}x")
    finally:
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--callers", type=int, default=32)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    uvloop.run(_run(args.callers, args.calls, args.repeat))


if __name__ == "__main__":
    main()
