"""End to end over HTTP with an open-loop load generator: requests are sent at fixed arrival times whatever
the responses do (a closed loop would slow down with the server and hide queueing). Latency is measured
from each request's scheduled time. Decision latency (POST → a decided status visible through
GET /v1/bookings/{id}) is measured on a sample of requests, each read as a client does: once, then with
If-None-Match on its ETag and `Prefer: wait=10`, so the answer comes when the booking is decided (on
connections of their own: a waiting read holds its connection)."""

from __future__ import annotations

import asyncio
import secrets
import time

import msgspec

from bench import cpu, processes
from bench.http_client import ConnectionPool
from bench.stats import percentile, summary_ms
from intake import credentials
from intake.tokens import mint
from ops.invariants import overbooking_violations, projection_differences, undecided
from runtime.settings import PROJECT_ROOT, Settings
from runtime.shards import AllShards

DECISION_SAMPLE = 50  # follow one request in fifty to its decision
WAIT_CONNECTIONS = 256  # for the waiting reads
P99_DECISION_LIMIT_S = 0.250


async def _create_show(pool: ConnectionPool, admin: str, seats: int) -> str:
    rows = -(-seats // 200)
    sections = [
        {"name": f"S{i}", "rows": min(200, rows - i * 200), "seats_per_row": 200, "price_cents": 100}
        for i in range(-(-rows // 200))
    ]
    body = msgspec.json.encode(
        {
            "title": "bench",
            "venue": "bench",
            "starts_at": "2027-01-01T20:00:00Z",
            "hold_seconds": 3600,
            "sections": sections,
            "max_seats_per_customer": 100,  # load customers book many times: every request a booking
        }
    )
    status, payload = await pool.request(
        "POST", "/v1/shows", {"Authorization": f"Bearer {admin}", "Content-Type": "application/json"}, body
    )
    assert status == 202, payload
    show_id = msgspec.json.decode(payload)["show_id"]
    for _ in range(600):
        if (await pool.request("GET", f"/v1/shows/{show_id}", {}))[0] == 200:
            return show_id
        await asyncio.sleep(0.05)
    raise AssertionError("bench show never appeared")


async def _step(
    pool: ConnectionPool,
    waits: ConnectionPool,
    show_id: str,
    tokens: list[str],
    rate: float,
    seconds: float,
    run: str,
) -> dict:
    total = int(rate * seconds)
    accept: list[float] = []
    decision: list[float] = []
    accepted: list[str] = []
    errors: dict[int, int] = {}
    pollers: list[asyncio.Task] = []
    body = b'{"quantity": 1}'

    async def poll(booking_id: str, token: str, scheduled: float) -> None:
        deadline = scheduled + 30
        tag = b""
        while time.perf_counter() < deadline:
            headers = {"Authorization": f"Bearer {token}"}
            if tag:
                headers |= {"If-None-Match": tag.decode(), "Prefer": "wait=10"}
            status, answer, payload = await waits.exchange("GET", f"/v1/bookings/{booking_id}", headers)
            if status == 200 and msgspec.json.decode(payload)["status"] != "RECEIVED":
                decision.append(time.perf_counter() - scheduled)
                return
            if status in (200, 304) and b"etag" in answer:
                tag = answer[b"etag"]
            else:  # not readable yet (just accepted): ask again shortly
                await asyncio.sleep(0.010)

    async def send(i: int, scheduled: float) -> None:
        token = tokens[i % len(tokens)]
        try:
            status, payload = await pool.request(
                "POST",
                f"/v1/shows/{show_id}/bookings",
                {
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": f"{run}-{rate}-{i}",
                },
                body,
            )
        except (OSError, ConnectionError) as exc:
            errors[-1] = errors.get(-1, 0) + 1
            print(f"request failed: {exc!r}")
            return
        accept.append(time.perf_counter() - scheduled)
        if status != 202:
            errors[status] = errors.get(status, 0) + 1
            return
        booking_id = msgspec.json.decode(payload)["booking_id"]
        accepted.append(booking_id)
        if i % DECISION_SAMPLE == 0:
            pollers.append(asyncio.create_task(poll(booking_id, token, scheduled)))

    senders = []
    cpu_before = cpu.snapshot(str(PROJECT_ROOT))
    started = time.perf_counter()
    for i in range(total):
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        senders.append(asyncio.create_task(send(i, scheduled)))
    await asyncio.gather(*senders)
    elapsed = time.perf_counter() - started
    cpu_used = cpu.used(cpu_before, cpu.snapshot(str(PROJECT_ROOT)))
    await asyncio.gather(*pollers)
    sustained = not errors and len(accepted) == total and percentile(decision, 99) < P99_DECISION_LIMIT_S
    return {
        "offered_per_s": rate,
        "requests": total,
        "accepted": len(accepted),
        "accepted_per_s": round(len(accepted) / elapsed, 1),
        "errors": errors,
        "accept": summary_ms(accept),
        "decision": summary_ms(decision),
        "decision_samples": len(decision),
        "sustained": sustained,
        "booking_ids": accepted,
        "seconds": round(elapsed, 2),
        "cpu_s": cpu_used,
        # requests one core of intake accepts per second at this load (its CPU over the step, for the
        # capacity model)
        "intake_per_core_per_s": round(len(accepted) / cpu_used["intake"], 1) if cpu_used.get("intake") else None,
    }


async def run_http_load(
    settings: Settings,
    pg: AllShards,
    redis,
    rates: list[float],
    seconds: float,
    connections: int,
    profile: bool = False,
) -> dict:
    signer = credentials.signer(settings)
    run = secrets.token_hex(3)
    tokens = [mint(signer, f"load-{run}-{i}", ttl=3600) for i in range(1000)]
    pool = ConnectionPool(settings.http_host, settings.http_port, connections)
    waits = ConnectionPool(settings.http_host, settings.http_port, WAIT_CONNECTIONS)
    rss = cpu.RssSampler(str(PROJECT_ROOT))
    sampling = asyncio.create_task(rss.run())
    try:
        show_id = await _create_show(pool, mint(signer, "bench-admin", "admin"), int(sum(rates) * seconds) + 1000)
        steps = []
        for rate in rates:
            profiler = None
            if profile and (pid := processes.managed_pid(settings, "intake-1")) is not None:
                profiler = processes.start_profiler(
                    pid, processes.FLAME_GRAPHS / f"intake-http-{rate:.0f}.svg", force=True, fmt="flamegraph"
                )
            try:
                steps.append(await _step(pool, waits, show_id, tokens, rate, seconds, run))
            finally:
                processes.stop_profiler(profiler)
            await asyncio.sleep(1)
    finally:
        pool.close()
        waits.close()
        sampling.cancel()
    booking_ids = [b for step in steps for b in step.pop("booking_ids")]
    problems = await overbooking_violations(pg, show_id)
    for _ in range(100):
        if await undecided(pg, booking_ids) == 0:
            break
        await asyncio.sleep(0.2)
    if (missing := await undecided(pg, booking_ids)) > 0:
        problems.append(f"{missing} accepted requests never decided")
    for _ in range(100):
        if not (differences := await projection_differences(pg, redis, [show_id])):
            break
        await asyncio.sleep(0.2)
    problems += differences[:5]
    if problems:
        raise AssertionError("end-to-end invariants broken: " + "; ".join(problems))
    best = max((s["offered_per_s"] for s in steps if s["sustained"]), default=0)
    return {
        "steps": steps,
        "connections": connections,
        "highest_sustained_per_s": best,
        "decision_sample_every": DECISION_SAMPLE,
        "peak_rss_mib": rss.peaks(),
    }
