"""Workers heal themselves: Kafka, PostgreSQL and Redis are each stopped and started again under load, and
every worker is ready again within 30 s of the server, with no process restarted by hand. Afterwards every
accepted booking is decided, no seat is in two live bookings, and Redis equals PostgreSQL.

A stack of its own (own data dir and ports), so the restarts disturb no other test."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from intake.tokens import Signer, mint
from ops.invariants import overbooking_violations, projection_differences
from runtime.clients import open_shards, redis_client
from runtime.settings import Settings
from runtime.shards import AllShards
from tests.support.keys import key_env, session_signer
from tests.support.processes import ROOT, Service
from tests.support.smtp import SmtpSink
from tests.support.stacks import stack_env
from tests.support.waiting import eventually

READY_WITHIN_S = 30
# A restarted processor decides again within this of the broker's return: well under the 10 s session
# timeout that a new dynamic member waits out (measured: 0.1 s as a static member, 9 s as a dynamic one).
REJOIN_WITHIN_S = 5
WORKERS = ["booking_processor", "booking_processor.relay_main", "projections", "expiry", "notifier"]


class Stack:
    def __init__(self, directory: Path) -> None:
        # One shard, one node of each engine: a single-database deployment is a shard map with one entry, and
        # the lighter topology must keep working.
        self.env = stack_env(directory, "single", shards=1, BOXOFFICE_EXPIRY_INTERVAL_S="0.5")
        self.settings = Settings.from_env(self.env)

    def run(self, *args: str) -> None:
        done = subprocess.run(
            [str(ROOT / "stack" / "stack.sh"), *args], env=self.env, timeout=240, capture_output=True, text=True
        )
        assert done.returncode == 0, f"stack.sh {' '.join(args)} failed:\n{done.stderr[-3000:]}"


class Load:
    """A steady trickle of booking requests through the intake; a 503 is retried with the same key, as a
    client should. Records every booking the intake accepted."""

    def __init__(self, url: str, signer: Signer, show_id: str) -> None:
        self.url, self.signer, self.show_id = url, signer, show_id
        self.accepted: set[str] = set()
        self.unavailable = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            n = 0
            while not self._stop.is_set():
                n += 1
                customer = f"ride-{n % 50}"
                headers = {"Authorization": f"Bearer {mint(self.signer, customer)}", "Idempotency-Key": f"k{n}"}
                while not self._stop.is_set():
                    try:
                        r = await http.post(f"/v1/shows/{self.show_id}/bookings", json={"quantity": 1}, headers=headers)
                    except httpx.HTTPError:
                        r = None
                    if r is not None and r.status_code in (200, 202):
                        self.accepted.add(r.json()["booking_id"])
                        break
                    assert r is None or r.status_code == 503, r.text  # nothing but "unavailable, retry"
                    self.unavailable += 1
                    await asyncio.sleep(0.2)
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()


async def _all_ready(services: list[Service]) -> dict[str, bool]:
    async with httpx.AsyncClient(timeout=2) as http:
        out = {}
        for service in services:
            try:
                out[service.name] = (await http.get(f"{service.url}/readyz")).status_code == 200
            except httpx.HTTPError:
                out[service.name] = False
        return out


@pytest.mark.slow
async def test_workers_ride_through_kafka_postgres_and_redis_restarts(settings, tmp_path):
    # Beside the test stack's data (pytest's own temp dirs are closed to the postgres user).
    stack = Stack(settings.stack_dir / f"ride-{secrets.token_hex(3)}")
    stack.run("up", "postgres", "redis", "kafka")
    signer = session_signer()
    env = {k: v for k, v in stack.env.items() if k.startswith("BOXOFFICE_")} | key_env()
    log_dir = tmp_path / "logs"
    services: list[Service] = []
    load_task = None
    with SmtpSink() as smtp:
        env["BOXOFFICE_SMTP_PORT"] = str(smtp.port)
        try:
            for module in WORKERS:
                services.append(Service(module, module, env, log_dir).start(wait=False))
            intake = Service("intake", "intake", {**env, "BOXOFFICE_RATE_LIMIT_PER_S": "0"}, log_dir)
            services.append(intake.start(wait=False))
            for service in services:
                service.wait_ready()
            pids = {s.name: s.proc.pid for s in services}
            async with httpx.AsyncClient(base_url=intake.url, timeout=10) as http:
                r = await http.post(
                    "/v1/shows",
                    headers={"Authorization": f"Bearer {mint(signer, 'ops', 'admin')}"},
                    json={
                        "title": "ride",
                        "venue": "v",
                        "starts_at": "2099-01-01T00:00:00Z",
                        "sections": [{"name": "A", "rows": 100, "seats_per_row": 100, "price_cents": 1}],
                    },
                )
                show_id = r.json()["show_id"]
                await eventually(
                    lambda: http.get(f"/v1/shows/{show_id}/seats"),
                    lambda r: r.json()["version"] >= 1,
                    what="the show created",
                )
            load = Load(intake.url, signer, show_id)
            load_task = asyncio.create_task(load.run())
            for component in ("kafka", "postgres", "redis"):
                await asyncio.sleep(2)  # load before
                await asyncio.to_thread(stack.run, "down", component)
                await asyncio.sleep(3)  # load while it is away
                await asyncio.to_thread(stack.run, "up", component)
                back = time.monotonic()
                await eventually(
                    lambda: _all_ready(services),
                    lambda r: all(r.values()),
                    timeout=READY_WITHIN_S,
                    interval=0.5,
                    what=f"every worker ready after {component} came back",
                )
                print(f"{component}: every worker ready {time.monotonic() - back:.1f}s after it came back")
                assert {s.name: s.proc.pid for s in services if s.proc.poll() is None} == pids  # none restarted
            # The chaos run's slow rejoin: the broker SIGKILLed, the processor SIGKILLed and restarted while it
            # is away. Once the broker is ready again, the processor (a static member) takes its partitions
            # back at once; as a new dynamic member it waited out the dead one's session (10 s) and more.
            processor = services[0]
            pg = await open_shards(stack.settings, kind=AllShards)
            await asyncio.sleep(2)
            os.kill(int((stack.settings.stack_dir / "kafka" / "kafka.pid").read_text()), signal.SIGKILL)
            await asyncio.sleep(1)
            processor.kill()
            await asyncio.sleep(1)
            processor.start(wait=False)
            await asyncio.sleep(2)
            await asyncio.to_thread(stack.run, "up", "kafka")
            ready_at = datetime.now(UTC)
            back = time.monotonic()
            await eventually(
                lambda: pg.fetchval("SELECT count(*) FROM bookings WHERE created_at > $1", ready_at),
                lambda n: n > 0,
                timeout=60,
                interval=0.1,
                what="a decision after the broker is back",
            )
            rejoined = time.monotonic() - back
            print(
                f"kafka SIGKILLed, processor restarted meanwhile: first decision {rejoined:.1f}s after the broker"
                " was ready"
            )
            assert rejoined < REJOIN_WITHIN_S
            await eventually(
                lambda: _all_ready(services),
                lambda r: all(r.values()),
                timeout=READY_WITHIN_S,
                interval=0.5,
                what="every worker ready after the kafka SIGKILL",
            )
            await asyncio.sleep(2)
            load.stop()
            await load_task
            assert load.accepted and load.unavailable  # the load went on, and saw the outages
            redis = redis_client(stack.settings)
            try:
                await eventually(
                    lambda: pg.fetchval(
                        "SELECT count(*) FROM bookings WHERE booking_id = ANY($1::text[])", list(load.accepted)
                    ),
                    lambda n: n == len(load.accepted),
                    timeout=60,
                    what="every accepted booking decided",
                )
                assert await overbooking_violations(pg, show_id) == []
                await eventually(
                    lambda: projection_differences(pg, redis, [show_id]),
                    lambda d: d == [],
                    timeout=60,
                    what="Redis equal to PostgreSQL",
                )
            finally:
                await pg.close()
                await redis.aclose()
        finally:
            if load_task is not None and not load_task.done():
                load_task.cancel()
            for service in reversed(services):
                service.stop()
            stack.run("down", "postgres", "redis", "kafka")
            shutil.rmtree(stack.settings.stack_dir, ignore_errors=True)
