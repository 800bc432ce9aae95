"""One runner for every long-running worker.

`run_service(name, main)`: read the settings, configure JSON logs, install SIGTERM/SIGINT handling, serve
/healthz, /readyz and /metrics, then run `main(service)`. Clients are built through the `Service`, which
registers each one's teardown on an AsyncExitStack: they stop in reverse order, also when a later start
fails. A dependency that is down at start (Kafka, PostgreSQL, Redis) is waited for with backoff while the
process reports not ready; a SIGTERM during that wait exits cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import httpx
import redis.asyncio as aioredis
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from prometheus_client import Gauge

from runtime import clients
from runtime.lifecycle import Lifecycle, tune_gc
from runtime.logging import configure_logging
from runtime.ops_http import OpsServer
from runtime.producer import HealingProducer
from runtime.retry import Retry, Stopped
from runtime.settings import Settings
from runtime.shards import Shards
from schemas import topics

T = TypeVar("T")
Check = Callable[[], Awaitable[bool]]
CHECK_TIMEOUT_S = 2.0
LAG_EVERY_S = 5.0
CONSUMER_LAG = Gauge(
    "boxoffice_consumer_lag", "Records past this consumer's position, per partition", ["group", "partition"]
)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _is_set(event: asyncio.Event) -> bool:
    return event.is_set()


class Stopping(Exception):
    """SIGTERM arrived while the service was still starting."""


class Service:
    def __init__(
        self,
        name: str,
        settings: Settings,
        lifecycle: Lifecycle,
        stack: contextlib.AsyncExitStack,
        user: str | None = None,
    ):
        """`user`: whom it connects to Redis and Kafka as (their ACLs; default: `name`; every intake instance
        is `intake`)."""
        self.name, self.settings, self.lifecycle = name, settings, lifecycle
        self.user = user or name
        self.log = structlog.get_logger()
        self._stack = stack
        self._checks: dict[str, Check] = {}
        self.ops: OpsServer | None = None

    # ------------------------------------------------------------------ readiness
    def check(self, name: str, probe: Check) -> None:
        """Readiness is the conjunction of every registered probe."""
        self._checks[name] = probe

    async def readiness(self) -> dict[str, bool]:
        async def run(name: str, probe: Check) -> bool:
            try:
                return bool(await asyncio.wait_for(probe(), CHECK_TIMEOUT_S))
            except Exception as exc:
                self.log.debug("readiness check failed", check=name, error=repr(exc))
                return False

        names = list(self._checks)
        results = await asyncio.gather(*[run(n, self._checks[n]) for n in names])
        return dict(zip(names, results, strict=True))

    async def serve_ops(self) -> None:
        self.ops = OpsServer(self.settings.http_host, self.settings.metrics_port, self.readiness)
        await self.ops.start()
        self._stack.push_async_callback(self.ops.close)

    # ------------------------------------------------------------------ lifetime
    def defer(self, callback: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run `callback` at shutdown (reverse order of registration)."""
        self._stack.push_async_callback(callback, *args)

    async def until_started(self, what: str, start: Callable[[], Awaitable[T]]) -> T:
        """`start()` until it succeeds, backing off on transient failures; Stopping on SIGTERM."""
        # A cap of 2 s: a worker starts within 2 s of its dependency coming up.
        try:
            return await Retry(f"{what} at start", self.lifecycle, first=0.25, cap=2.0).run(start)
        except Stopped:
            raise Stopping(what) from None

    # ------------------------------------------------------------------ clients
    async def pg_pool(
        self, size: int | None = None, dsn: str | None = None, check: str = "postgres", **kw: Any
    ) -> asyncpg.Pool:
        """A pool that opens connections on demand: created while PostgreSQL is down, it heals by itself."""
        pool = await clients.pg_pool(self.settings, dsn=dsn, size=size, min_size=0, **kw)
        self.defer(pool.close)

        async def ping() -> bool:
            return bool(await pool.fetchval("SELECT 1") == 1)

        self.check(check, ping)
        return pool

    async def shards(
        self,
        size: int,
        replicas: bool = False,
        topic: str = topics.COMMANDS,
        replica_size: int | None = None,
        checks: bool = True,
        **kw: Any,
    ) -> Shards:
        """A pool per shard (and per replica when asked, `replica_size` connections each), and the shard map,
        re-read every second. `checks`: readiness needs every shard and the map (the intake's does not:
        API.md keeps its /readyz to Kafka and Redis)."""
        primaries = [
            await clients.pg_pool(self.settings, dsn=dsn, size=size, min_size=0, **kw)
            for dsn in self.settings.pg_shard_dsns
        ]
        read = (
            [
                await clients.pg_pool(self.settings, dsn=dsn, size=replica_size or size, min_size=0)
                for dsn in self.settings.pg_shard_read_dsns
            ]
            if replicas
            else None
        )
        shards = Shards(primaries, read, topic)
        self.defer(shards.close)
        shards.watch()
        if not checks:
            return shards

        async def every_shard_answers() -> bool:
            return all([await pool.fetchval("SELECT 1") == 1 for pool in primaries])

        self.check("postgres", every_shard_answers)
        self.check("shard_map", lambda: _is_set(shards.loaded))
        return shards

    async def shard_map_loaded(self, shards: Shards) -> None:
        """Wait for the first shard map (never work on a guessed one); Stopping on SIGTERM meanwhile."""
        while not shards.loaded.is_set():
            if await self.lifecycle.sleep(0.1):
                raise Stopping("the shard map")

    def pg_connect(
        self, dsn: str | None = None, check: str = "postgres"
    ) -> Callable[[], Awaitable[asyncpg.Connection]]:
        """A factory of dedicated connections (LISTEN, session advisory locks); readiness opens one."""

        def connect() -> Awaitable[asyncpg.Connection]:
            return clients.pg_connect(self.settings, dsn)

        async def ping() -> bool:
            conn = await connect()
            try:
                return bool(await conn.fetchval("SELECT 1") == 1)
            finally:
                await conn.close()

        self.check(check, ping)
        return connect

    def http_client(self, timeout_s: float = 5.0) -> httpx.AsyncClient:
        client = clients.http_client(timeout_s)
        self.defer(client.aclose)
        return client

    def redis(self, ready_needs_it: bool = True, **kw: Any) -> aioredis.Redis:
        """A Redis client as this service's ACL user (stack/lib/redis.sh)."""
        client = clients.redis_client(self.settings, self.user, **kw)
        self.defer(client.aclose)
        if ready_needs_it:
            self.check("redis", client.ping)
        return client

    async def kafka_producer(self, **overrides: Any) -> HealingProducer:
        """A started idempotent producer that replaces itself when it can never send again (runtime/producer.py)."""

        async def start() -> HealingProducer:
            producer = HealingProducer(lambda: clients.kafka_producer(self.settings, self.user, **overrides))
            try:
                await producer.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await producer.stop()
                raise
            return producer

        producer = await self.until_started("kafka producer", start)
        self.defer(producer.stop)  # flushes what it still holds
        self.check("kafka_producer", lambda: clients.kafka_answers(producer.client))
        return producer

    def static_member_id(self) -> str | None:
        """The consumer groups' static member id (KIP-345) of this process: host and ops port, unique among
        live processes (the port is bound) and the same when the process is restarted in its place. A
        restarted member then takes its partitions back at once, instead of after the dead member's session
        timeout and a rebalance of the whole group (the chaos run saw decisions stalled ~40 s after Kafka and
        the processor restarted). None on a random ops port (one-off tools and tests): a dynamic member."""
        if self.ops is None or not self.settings.metrics_port:
            return None
        return f"{socket.gethostname()}:{self.ops.port}"

    async def kafka_consumer(
        self, *topics: str, group_id: str, listener: ConsumerRebalanceListener | None = None, **overrides: Any
    ) -> AIOKafkaConsumer:
        """A started group consumer subscribed to `topics` (with `listener` for rebalances), a static member of
        its group (`group_instance_id`) whenever this process has a fixed ops port: see `static_member_id`."""
        instance = self.static_member_id()
        if instance is not None:
            overrides.setdefault("group_instance_id", instance)

        async def start() -> AIOKafkaConsumer:
            consumer = clients.kafka_consumer(self.settings, group_id=group_id, user=self.user, **overrides)
            consumer.subscribe(list(topics), listener=listener)
            try:
                await consumer.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await consumer.stop()
                raise
            return consumer

        consumer = await self.until_started("kafka consumer", start)
        self.defer(consumer.stop)
        self.check("kafka_consumer", lambda: clients.kafka_answers(consumer._client))
        lag = asyncio.create_task(self._observe_lag(consumer, group_id))
        self.defer(_cancel, lag)
        return consumer

    async def _observe_lag(self, consumer: AIOKafkaConsumer, group: str) -> None:
        """`boxoffice_consumer_lag{group, partition}` every few seconds: records of each assigned partition
        past this consumer's position (the alerting rules watch it grow)."""
        seen: set[int] = set()
        while not await self.lifecycle.sleep(LAG_EVERY_S):
            assigned = consumer.assignment()
            for tp in assigned:
                highwater = consumer.highwater(tp)
                if highwater is None:
                    continue
                with contextlib.suppress(Exception):  # a partition revoked meanwhile: measured next time
                    CONSUMER_LAG.labels(group, str(tp.partition)).set(max(0, highwater - await consumer.position(tp)))
                    seen.add(tp.partition)
            for partition in seen - {tp.partition for tp in assigned}:
                CONSUMER_LAG.remove(group, str(partition))
                seen.discard(partition)


@contextlib.asynccontextmanager
async def serving(
    name: str, settings: Settings | None = None, *, ops: bool = True, signals: bool = True, user: str | None = None
) -> AsyncIterator[Service]:
    """A process's runner: settings, JSON logs, the collector tuned, the lifecycle (SIGTERM/SIGINT handled when
    `signals`; the intake's uvicorn owns them), the ops server (health, readiness, metrics) when `ops`, and the
    AsyncExitStack every client's teardown is registered on (undone in reverse order when the block ends)."""
    settings = settings or Settings.from_env()
    log = configure_logging(name, settings.log_level)
    tune_gc()
    lifecycle = Lifecycle()
    if signals:
        lifecycle.install_signal_handlers()
    async with contextlib.AsyncExitStack() as stack:
        service = Service(name, settings, lifecycle, stack, user)
        if ops:
            await service.serve_ops()
        log.info(f"{name} starting", metrics_port=service.ops.port if service.ops else None)
        try:
            yield service
        finally:
            lifecycle.stop()  # anything still waiting for a dependency gives up at once
    log.info(f"{name} exited")


def run_service(name: str, main: Callable[[Service], Awaitable[None]], *, ops: bool = True) -> None:
    """The process entry point of a worker: `if __name__ == "__main__": run_service("name", main)`."""
    import uvloop

    async def entry() -> None:
        async with serving(name, ops=ops) as service:
            try:
                await main(service)
            except Stopping as what:
                service.log.info(f"{name} stopped while waiting for {what}")

    uvloop.run(entry())
