"""Survive the loss of any one server (the HA test stack): under a booking storm through NGINX on a hot show, the
Kafka broker that leads its partition, the PostgreSQL primary of its shard, the primary of shard 0 (the shard
map's home) and the Redis primary are each SIGKILLed. For each: nothing accepted is lost, duplicated or
oversold, every accepted request is decided, every email goes out once, every worker is ready again by
itself, the read models equal PostgreSQL (`boxoffice reconcile`), and the figures are printed — seconds from
the kill to the first decision after it, the longest pause in decisions, how many requests got 503 (each
with Retry-After) — with no 5xx other than 503."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from ops.invariants import overbooking_violations, projection_differences
from runtime.clients import kafka_admin, redis_credentials
from runtime.retry import Retry
from runtime.shards import partition_of
from schemas import topics
from tests.support import ids
from tests.support.pg_servers import kill_primary, node_role, nodes_per_shard, start_nodes
from tests.support.processes import ROOT, Service
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually

pytestmark = pytest.mark.skipif(
    os.environ.get("BOXOFFICE_TOPOLOGY", "ha") != "ha",
    reason="the loss of a server is survivable on the HA topology only",
)

CLIENTS = 16
STACK_SH = str(ROOT / "stack" / "stack.sh")


@dataclass
class Storm:
    """Clients booking one seat each on the hot show through NGINX; a 503 (which must carry Retry-After) or a
    lost connection is retried with the same Idempotency-Key, as API.md asks a client to."""

    api: object
    show_id: str
    tag: str
    accepted: dict[str, str] = field(default_factory=dict)  # booking id -> the address its emails go to
    unavailable: int = 0
    without_retry_after: int = 0
    other_5xx: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def client(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            address = f"ha-{self.tag}-{n}-{i}@example.com"
            customer, key = ids.customer("ha"), ids.key()
            headers = {**self.api.auth(customer, email=address), "Idempotency-Key": key}
            while True:
                try:
                    r = await self.api.http.post(
                        f"/v1/shows/{self.show_id}/bookings", json={"quantity": 1}, headers=headers
                    )
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
                    continue
                if r.status_code in (200, 202):
                    self.accepted[r.json()["booking_id"]] = address
                    break
                if r.status_code == 503:
                    self.unavailable += 1
                    self.without_retry_after += "retry-after" not in r.headers
                    await asyncio.sleep(0.2)
                    continue
                if r.status_code == 429:  # each customer is new: not expected, but not a failure of the door
                    await asyncio.sleep(0.5)
                    continue
                if r.status_code >= 500:
                    self.other_5xx.append(f"{r.status_code} {r.text[:200]}")
                break
            await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
async def notifier_sink(system):
    with SmtpSink() as sink:
        notifier = Service(
            "notifier-ha",
            "notifier",
            {"BOXOFFICE_SMTP_PORT": str(sink.port), "BOXOFFICE_NOTIFIER_GROUP": f"notifier-ha-{secrets.token_hex(3)}"},
            system.log_dir,
        ).start()
        yield notifier, sink
        notifier.stop()


def _ride(query):
    """A query of the test's own through a failover: retried by the one retry primitive, as the workers do."""
    return lambda: Retry("failover test query", cap=1.0).run(query)


async def _first_decision_after(pg, show_id: str, since: datetime) -> datetime:
    probe = _ride(
        lambda: pg.fetchval(
            "SELECT min(created_at) FROM bookings WHERE show_id = $1 AND created_at > $2", show_id, since
        )
    )
    return await eventually(probe, lambda t: t is not None, timeout=120, interval=0.2, what="a decision after the kill")


async def _longest_pause(pg, show_id: str, since: datetime) -> float:
    rows = await pg.fetch(
        "SELECT created_at FROM bookings WHERE show_id = $1 AND created_at > $2 ORDER BY 1", show_id, since
    )
    times = [since] + [r["created_at"] for r in rows]
    return max((b - a).total_seconds() for a, b in itertools.pairwise(times)) if len(times) > 1 else 0.0


async def _not_ready(services: list[Service]) -> list[str]:
    """Each service not ready, with what its /readyz says (a failed check names the service and why)."""
    found = []
    async with httpx.AsyncClient(timeout=2) as http:
        for service in services:
            try:
                r = await http.get(f"{service.url}/readyz")
            except httpx.HTTPError as exc:
                found.append(f"{service.name}: {exc!r}")
                continue
            if r.status_code != 200:
                found.append(f"{service.name}: {r.status_code} {r.text[:300]}")
    return found


async def _survive(api, system, pg, redis, notifier_sink, fault_name: str, fault, recover) -> None:
    """The storm, the fault, the recovery, then every check of the module's docstring."""
    notifier, sink = notifier_sink
    # Holds outlive the run: no expiry races the checks below.
    show_id = await api.create_show(
        [{"name": "A", "rows": 100, "seats_per_row": 100, "price_cents": 1}], hold_seconds=3600
    )
    storm = Storm(api, show_id, secrets.token_hex(3))
    clients = [asyncio.create_task(storm.client(n)) for n in range(CLIENTS)]
    try:
        await asyncio.sleep(5)  # load before
        killed_at = datetime.now(UTC)
        await fault(show_id)
        first = await _first_decision_after(pg, show_id, killed_at)
        await recover()
        await asyncio.sleep(5)  # load after
    finally:
        storm.stop.set()
        await asyncio.gather(*clients)
    accepted = list(storm.accepted)
    decided = await eventually(
        _ride(lambda: pg.fetchval("SELECT count(*) FROM bookings WHERE booking_id = ANY($1::text[])", accepted)),
        lambda n: n == len(accepted),
        timeout=120,
        interval=0.5,
        what="every accepted booking decided",
    )
    duplicated = await _ride(
        lambda: pg.fetchval("SELECT count(*) - count(DISTINCT request_id) FROM bookings WHERE show_id = $1", show_id)
    )()
    pause = await _longest_pause(pg, show_id, killed_at)
    print(
        f"\n[{fault_name}] accepted {len(accepted)}, decided {decided}; first decision "
        f"{(first - killed_at).total_seconds():.1f} s after the kill, longest pause in decisions {pause:.1f} s; "
        f"{storm.unavailable} answers 503 (all with Retry-After: {storm.without_retry_after == 0}), "
        f"other 5xx {len(storm.other_5xx)}"
    )
    assert storm.other_5xx == [] and storm.without_retry_after == 0
    assert duplicated == 0
    assert await overbooking_violations(pg, show_id) == []
    # Every worker (and the notifier) ready again by itself.
    await eventually(
        lambda: _not_ready([*system.services, notifier]),
        lambda found: found == [],
        timeout=90,
        interval=0.5,
        what="every worker ready again",
    )
    await eventually(
        lambda: projection_differences(pg, redis, [show_id]),
        lambda d: d == [],
        timeout=90,
        interval=0.5,
        what="Redis equal to PostgreSQL",
    )
    # Every email once: each booking event of the hot show reached its address exactly once.
    events = {
        r["event_id"]
        for r in await pg.fetch("SELECT event_id FROM outbox_events WHERE show_id = $1 AND show_version > 1", show_id)
    }
    await eventually(
        _ride(
            lambda: pg.fetchval(
                "SELECT count(*) FROM notifications WHERE event_id = ANY($1::text[]) AND status = 'sent'", list(events)
            )
        ),
        lambda n: n == len(events),
        timeout=180,
        interval=1,
        what="every email sent",
    )
    copies = Counter(m["Message-ID"] for m in sink.collector.messages if m["To"].startswith(f"ha-{storm.tag}-"))
    assert set(copies) == {f"<{e}@boxoffice>" for e in events}
    assert [mid for mid, n in copies.items() if n > 1] == []

    # Over the whole live system (other tests' holds expire meanwhile, so a difference may be one in flight):
    # clean on one of a few runs a few seconds apart.
    def reconcile() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "ops.cli", "reconcile"], cwd=ROOT, capture_output=True, text=True, timeout=300
        )

    done = await eventually(
        lambda: asyncio.to_thread(reconcile),
        lambda r: r.returncode == 0,
        timeout=30,
        interval=3,
        what="boxoffice reconcile clean",
    )
    assert done.returncode == 0


async def _leader_of(show_id: str, settings) -> int:
    admin: AIOKafkaAdminClient = kafka_admin(settings)
    await admin.start()
    try:
        (topic,) = await admin.describe_topics([topics.COMMANDS])
        partition = partition_of(show_id)
        return next(p["leader"] for p in topic["partitions"] if p["partition"] == partition)
    finally:
        await admin.close()


def _stack(*args: str) -> None:
    done = subprocess.run([STACK_SH, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.slow
async def test_the_kafka_broker_leading_the_hot_partition_is_lost_for_a_minute(
    api, system, pg, redis, settings, notifier_sink
):
    async def fault(show_id: str) -> None:
        broker = await _leader_of(show_id, settings)
        directory = settings.stack_dir / ("kafka" if broker == 1 else f"kafka-{broker}")
        os.kill(int((directory / "kafka.pid").read_text()), signal.SIGKILL)
        print(f"\nSIGKILLed Kafka broker {broker}, the leader of the hot show's partition {partition_of(show_id)}")

    async def recover() -> None:
        await asyncio.sleep(60)  # a minute without it: the other two carry every write (min.insync.replicas 2)
        await asyncio.to_thread(_stack, "up", "kafka")
        await eventually(
            _under_replicated(settings),
            lambda n: n == 0,
            timeout=120,
            interval=1,
            what="no partition under-replicated once the broker is back",
        )

    await _survive(api, system, pg, redis, notifier_sink, "kafka leader", fault, recover)


def _under_replicated(settings):
    async def probe() -> int:
        admin = kafka_admin(settings)
        await admin.start()
        try:
            described = await admin.describe_topics(list(topics.TOPICS))
            return sum(len(p["isr"]) < len(p["replicas"]) for t in described for p in t["partitions"])
        finally:
            await admin.close()

    return probe


def _primary_loss(shard_of_show: bool):
    async def run(api, system, pg, redis, settings, notifier_sink, name: str) -> None:
        lost: dict[str, int] = {}

        async def fault(show_id: str) -> None:
            shard = pg.map.shard_of_show(show_id) if shard_of_show else 0
            lost["shard"], lost["node"] = shard, await asyncio.to_thread(kill_primary, settings.stack_dir, shard)
            print(f"\nSIGKILLed PostgreSQL shard {shard}'s primary (node {lost['node']}: Patroni and postgres)")

        async def recover() -> None:
            shard, node = lost["shard"], lost["node"]
            promoted = await eventually(
                lambda: asyncio.to_thread(node_role, shard, 1 - node),
                lambda role: role == "primary",
                timeout=60,
                interval=0.5,
                what="the standby promoted",
            )
            assert promoted == "primary"
            await asyncio.to_thread(start_nodes)  # the former primary comes back: it rewinds and follows
            await eventually(
                lambda: asyncio.to_thread(node_role, shard, node),
                lambda role: role == "replica",
                timeout=120,
                interval=1,
                what="the former primary rejoined as a standby",
            )

        await _survive(api, system, pg, redis, notifier_sink, name, fault, recover)

    return run


@pytest.mark.slow
async def test_the_primary_of_the_hot_show_s_shard_is_lost(api, system, pg, redis, settings, notifier_sink):
    assert nodes_per_shard() == 2
    await _primary_loss(True)(api, system, pg, redis, settings, notifier_sink, "primary of the hot shard")


@pytest.mark.slow
async def test_the_primary_of_shard_0_the_shard_map_s_home_is_lost(api, system, pg, redis, settings, notifier_sink):
    await _primary_loss(False)(api, system, pg, redis, settings, notifier_sink, "primary of shard 0")


@pytest.mark.slow
async def test_the_redis_primary_is_lost(api, system, pg, redis, settings, notifier_sink):
    import redis.asyncio as aioredis

    sentinel = settings.redis_sentinels[0]
    host, _, port = sentinel.rpartition(":")

    async def primary_port() -> int:
        client = aioredis.Redis(host=host, port=int(port), **redis_credentials(settings, "admin"))
        try:
            return int((await client.sentinel_get_master_addr_by_name(settings.redis_master))[1])
        finally:
            await client.aclose()

    lost: dict[str, int] = {}

    async def fault(show_id: str) -> None:
        lost["port"] = await primary_port()
        server = lost["port"] - int(os.environ["BOXOFFICE_REDIS_PORT"]) + 1
        pidfile = settings.stack_dir / "redis" / f"server-{server}" / "redis.pid"
        os.kill(int(pidfile.read_text()), signal.SIGKILL)
        print(f"\nSIGKILLed the Redis primary (127.0.0.1:{lost['port']})")

    async def recover() -> None:
        await eventually(
            primary_port,
            lambda p: p != lost["port"],
            timeout=60,
            interval=0.5,
            what="the sentinels promoted the replica",
        )
        await asyncio.to_thread(_stack, "up", "redis")  # the former primary comes back as a replica

    started = time.monotonic()
    await _survive(api, system, pg, redis, notifier_sink, "redis primary", fault, recover)
    print(f"[redis primary] whole run {time.monotonic() - started:.0f} s")
