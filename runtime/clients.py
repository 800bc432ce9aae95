"""Factories for the Kafka producer/consumer, the asyncpg pool and the Redis client.

Nothing here runs at import time; every service builds its clients in its own startup.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse, urlsplit, urlunsplit

import asyncpg
import httpx
import msgspec
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio.sentinel import Sentinel

from payments.stripe import StripeAdapter
from runtime.settings import Settings, SettingsError
from runtime.shards import Shards
from schemas import topics


def kafka_producer(settings: Settings, user: str = "admin", **overrides: Any) -> AIOKafkaProducer:
    """Idempotent producer: acks=all, retries without duplicates or reordering within a partition. As the
    SASL user `user` (a service's own name; `admin` for the tools and tests)."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "enable_idempotence": True,
        "acks": "all",
        "linger_ms": 2,
        "max_batch_size": 256 * 1024,
        "request_timeout_ms": 15_000,
        "client_id": "boxoffice",
        **kafka_credentials(settings, user),
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


# The processor asks the broker to answer once 64 KiB are there or 50 ms have passed, not at the first record:
# under a steady HTTP load a batch (one transaction per partition) carries tens of commands instead of a few,
# at the price of at most 50 ms of decision latency when the topic is quiet. Each batch costs a transaction,
# its events, the consumers' fetches and every group's offset commit, each replicated three times on the HA
# topology, so the wait sets what a booking costs the whole stack. Measured (docs/BENCHMARKS.md, the front
# door): on the single broker 10 ms gave 1,000 req/s sustained instead of 500; on the HA topology 50 ms
# instead of 10 took the closed loop from 223 to 420 bookings/s and Kafka's CPU per booking from 3.9 to
# 1.6 ms (100 ms: no better). Not for projections and notifier: there the drain ran 15% slower with it
# (twice the Redis commands per decision).
BATCHING_FETCH: dict[str, int] = {"fetch_min_bytes": 64 * 1024, "fetch_max_wait_ms": 50}


def kafka_admin(settings: Settings, client_id: str = "boxoffice-admin") -> AIOKafkaAdminClient:
    """An admin client: the operators' (`admin`, a super user)."""
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, client_id=client_id, **kafka_credentials(settings, "admin")
    )


def kafka_consumer(
    settings: Settings, *topics: str, group_id: str | None, user: str = "admin", **overrides: Any
) -> AIOKafkaConsumer:
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        "max_partition_fetch_bytes": 4 * 1024 * 1024,
        "fetch_max_bytes": 32 * 1024 * 1024,
        # A member that stops heartbeating (a SIGKILLed process, a broker gone) loses its partitions after
        # 10 s; a rebalance waits at most 10 s for the members to rejoin. A restarted static member
        # (runtime/service.py: group_instance_id) rejoins without either wait.
        "session_timeout_ms": 10_000,
        "rebalance_timeout_ms": 10_000,
        "heartbeat_interval_ms": 1_000,
        "max_poll_interval_ms": 300_000,
        "client_id": "boxoffice",
        **kafka_credentials(settings, user),
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb travels as JSON text both ways (msgspec, the one JSON library).
    await conn.set_type_codec(
        "jsonb", encoder=lambda v: msgspec.json.encode(v).decode(), decoder=msgspec.json.decode, schema="pg_catalog"
    )


async def pg_pool(
    settings: Settings,
    dsn: str | None = None,
    size: int | None = None,
    server_settings: dict[str, str] | None = None,
    min_size: int = 1,
) -> asyncpg.Pool:
    """min_size=0 opens connections on demand, so a pool can be created while PostgreSQL is down."""
    size = size or settings.pg_pool_size
    return await asyncpg.create_pool(
        dsn or settings.pg_dsn,
        min_size=min(min_size, size),
        max_size=size,
        init=_init_connection,
        command_timeout=60,
        server_settings=server_settings,
        passfile=_passfile(settings),
    )


async def pg_connect(settings: Settings, dsn: str | None = None) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn or settings.pg_dsn, passfile=_passfile(settings))
    await _init_connection(conn)
    return conn


def _passfile(settings: Settings) -> str | None:
    """The password file, once it exists (otherwise libpq's defaults: PGPASSFILE, ~/.pgpass)."""
    path = settings.pg_passfile
    return str(path) if path is not None and path.is_file() else None


def owner_dsn(settings: Settings, dsn: str | None = None) -> str:
    """`dsn` (default: shard 0's) as the schema's owner, the role migrations (and tools that make databases)
    run as; the services never connect as it."""
    url = urlsplit(dsn or settings.pg_dsn)
    hosts = url.netloc.rpartition("@")[2]
    return urlunsplit(url._replace(netloc=f"{settings.pg_owner_user}@{hosts}"))


def pg_env(settings: Settings) -> dict[str, str]:
    """What a libpq program or a child process needs to find the passwords (pgbench, a benchmark's server)."""
    found = _passfile(settings)
    return {"PGPASSFILE": found} if found is not None else {}


def http_client(timeout_s: float = 5.0) -> httpx.AsyncClient:
    """An HTTP client for calls to our own neighbours (NGINX's status page): no proxies from the environment."""
    return httpx.AsyncClient(timeout=timeout_s, trust_env=False)


def secret(settings: Settings, name: str) -> str | None:
    """The password in `<secrets_dir>/<name>.password`, None when there is no such file."""
    if settings.secrets_dir is None:
        return None
    try:
        return (settings.secrets_dir / f"{name}.password").read_text().strip()
    except FileNotFoundError:
        return None


def payment_keys(settings: Settings) -> tuple[str, str]:
    """The payment provider's API key and webhook secret: the settings', else the stack's secrets."""
    api_key = settings.payment_api_key or secret(settings, "payments-api")
    webhook_secret = settings.payment_webhook_secret or secret(settings, "payments-webhook")
    if not api_key or not webhook_secret:
        raise SettingsError(
            "no payment provider keys: set BOXOFFICE_PAYMENT_API_KEY and BOXOFFICE_PAYMENT_WEBHOOK_SECRET "
            "(the local stack keeps them as the secrets payments-api and payments-webhook)"
        )
    return api_key, webhook_secret


def payment_provider(settings: Settings) -> StripeAdapter:
    """The adapter of the configured provider (Stripe's API: the development provider speaks it too)."""
    api_key, webhook_secret = payment_keys(settings)
    return StripeAdapter(
        settings.payment_provider,
        settings.payment_api_url,
        api_key,
        webhook_secret,
        tolerance_s=settings.payment_webhook_tolerance_s,
    )


def redis_credentials(settings: Settings, user: str) -> dict[str, str]:
    """AUTH as `user` (Redis ACL) with its password (secret `redis-<user>`); nothing without one (a Redis
    without users)."""
    password = secret(settings, f"redis-{user}")
    return {} if password is None else {"username": user, "password": password}


def kafka_credentials(settings: Settings, user: str) -> dict[str, str]:
    """SASL/SCRAM as `user` with its password (secret `kafka-<user>`); PLAINTEXT without one (a cluster
    formatted before SASL: stack/lib/kafka.sh)."""
    password = secret(settings, f"kafka-{user}")
    if password is None:
        return {}
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": user,
        "sasl_plain_password": password,
    }


def redis_client(settings: Settings, user: str = "admin", **overrides: Any) -> aioredis.Redis:
    """The Redis primary, as the ACL user `user` (a service's own name; `admin` for the operators' tools and
    the tests). Under Sentinel (`redis_sentinels`), a client that asks the sentinels (as the same user) where
    the primary is whenever it connects: after a failover its connections to the old primary fail (a demoted
    primary's READONLY answer included: redis-py turns it into a ConnectionError), which every caller treats
    as transient, and the next connection goes to the new primary."""
    credentials = redis_credentials(settings, user)
    options: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 2, "health_check_interval": 15}
    options.update(credentials)
    options.update(overrides)
    if not settings.redis_sentinels:
        return aioredis.Redis.from_url(settings.redis_url, **options)
    url = urlparse(settings.redis_url)
    db = int(url.path.strip("/") or 0)
    sentinels = [(host, int(port)) for host, _, port in (s.rpartition(":") for s in settings.redis_sentinels)]
    asking = {"socket_timeout": 1, "socket_connect_timeout": 1, **credentials}
    sentinel = Sentinel(sentinels, sentinel_kwargs=asking)  # type: ignore[no-untyped-call, unused-ignore]  # typed from redis 8.2 on
    client: aioredis.Redis = sentinel.master_for(settings.redis_master, redis_class=aioredis.Redis, db=db, **options)
    return client


async def kafka_answers(client: Any) -> bool:
    """A broker answered a metadata request (raises when none does)."""
    await client.fetch_all_metadata()
    return True


async def topic_partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    """Partition ids of a topic, from fresh cluster metadata (a consumer with no subscription has none
    cached; aiokafka 0.14 exposes the metadata fetch only on its client)."""
    cluster = await consumer._client.fetch_all_metadata()
    return cluster.partitions_for_topic(topic) or set()


async def open_shards(
    settings: Settings, size: int = 2, replicas: bool = False, kind: type[Shards] = Shards, topic: str = topics.COMMANDS
) -> Shards:
    """A pool per shard (and per replica), with the shard map read once (operator tools, tests, benches;
    services use Service.shards, which keeps the map fresh)."""
    primaries = [await pg_pool(settings, dsn=dsn, size=size, min_size=0) for dsn in settings.pg_shard_dsns]
    read = (
        [await pg_pool(settings, dsn=dsn, size=size, min_size=0) for dsn in settings.pg_shard_read_dsns]
        if replicas
        else None
    )
    shards = kind(primaries, read, topic)
    try:
        await shards.refresh()
    except BaseException:
        await shards.close()
        raise
    return shards
