"""Redis at least privilege (stack/lib/redis.sh): no anonymous access to a server or a sentinel; each service
connects as an ACL user of its own name that runs only the commands, and touches only the keys and channels,
it needs; on the sentinels the services may only ask where the primary is."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from projections.keys import Keys, changes_channel
from runtime.clients import redis_client, redis_credentials

pytestmark = pytest.mark.usefixtures("settings")


def _sentinels(settings) -> list[tuple[str, int]]:
    return [(h, int(p)) for h, _, p in (s.rpartition(":") for s in settings.redis_sentinels)]


async def _servers(settings) -> list[tuple[str, int]]:
    """Every Redis server: the one of the URL (single), or the primary and its replicas (Sentinel)."""
    if not settings.redis_sentinels:
        url = urlparse(settings.redis_url)
        return [(url.hostname or "127.0.0.1", url.port or 6379)]
    host, port = _sentinels(settings)[0]
    sentinel = aioredis.Redis(host=host, port=port, **redis_credentials(settings, "admin"))
    try:
        primary = await sentinel.sentinel_get_master_addr_by_name(settings.redis_master)
        replicas = await sentinel.sentinel_slaves(settings.redis_master)
        return [(primary[0], int(primary[1])), *((r["ip"], int(r["port"])) for r in replicas)]
    finally:
        await sentinel.aclose()


@pytest.fixture
async def as_user(settings):
    made: list[aioredis.Redis] = []

    def connect(user: str) -> aioredis.Redis:
        client = redis_client(settings, user)
        made.append(client)
        return client

    yield connect
    for client in made:
        await client.aclose()


async def test_every_server_and_sentinel_refuses_a_client_without_a_password(settings):
    for host, port in [*(await _servers(settings)), *_sentinels(settings)]:
        once = {"retry": Retry(NoBackoff(), 0), "socket_connect_timeout": 2}
        anonymous = aioredis.Redis(host=host, port=port, **once)
        try:
            with pytest.raises((AuthenticationError, ResponseError), match=r"(?i)auth"):
                await anonymous.get("bo:active")
        finally:
            await anonymous.aclose()
        guessed = aioredis.Redis(host=host, port=port, username="intake", password="guessed", **once)
        try:
            with pytest.raises((AuthenticationError, ResponseError)):
                await guessed.ping()
        finally:
            await guessed.aclose()


async def test_the_intake_writes_its_own_keys_and_no_seat_hold_line_change_or_position(as_user):
    intake = as_user("intake")
    assert await intake.set("bo:idem:acl-test", "fp", ex=5) is True  # its claims
    await intake.get("bo:active")  # reads every read model (refused reads raise)
    await intake.hget(Keys().show("acl-show"), "doc")
    for forge in (
        intake.sadd(Keys().booked("acl-show"), "A-1-1"),  # a seat sold
        intake.zadd(Keys().holds("acl-show"), {"b": 1}),
        intake.zadd(Keys().waitlist("acl-show"), {"c": 1}),  # a waiting line (its own place: yes)
        intake.publish(changes_channel("acl-show"), "{}"),  # a change notification
        intake.hset("bo:decided", "0", "1"),  # the processor's positions
        intake.flushall(),
        intake.config_set("appendonly", "no"),
        intake.execute_command("KEYS", "*"),
        intake.execute_command("CLIENT", "LIST"),
        intake.script_flush(),
        intake.execute_command("FUNCTION", "FLUSH"),
    ):
        with pytest.raises(NoPermissionError):
            await forge
    await intake.hset(Keys().waitlist_entry("acl-show", "c"), "doc", "{}")  # a place it took
    await as_user("admin").delete(Keys().waitlist_entry("acl-show", "c"))
    # A script runs with the caller's rights: a write outside its keys from Lua is refused too.
    with pytest.raises(ResponseError, match=r"(?i)permission|noperm|acl"):
        await intake.eval("return redis.call('SADD', KEYS[1], 'x')", 1, Keys().booked("acl-show"))


async def test_the_processor_only_writes_where_decisions_stand(as_user):
    processor = as_user("booking_processor")
    assert await processor.hset("bo:decided", "acl-test", "0") in (0, 1)
    for refused in (
        processor.hget(Keys().show("acl-show"), "doc"),
        processor.execute_command("CLIENT", "LIST"),
        processor.set("bo:idem:acl-test", "x"),
        processor.eval("return 1", 0),
    ):
        with pytest.raises(NoPermissionError):
            await refused
    await as_user("admin").hdel("bo:decided", "acl-test")


async def test_the_projections_write_read_models_but_administer_nothing(as_user):
    projections = as_user("projections")
    key = Keys().booked("acl-show")
    assert await projections.sadd(key, "A-1-1") == 1
    assert await projections.publish(changes_channel("acl-show"), "{}") >= 0
    await projections.delete(key)
    for refused in (
        projections.flushall(),
        projections.config_get("*"),
        projections.execute_command("KEYS", "*"),
        projections.set("elsewhere", "x"),  # outside bo:*
    ):
        with pytest.raises(NoPermissionError):
            await refused


async def test_a_service_may_only_ask_the_sentinels_where_the_primary_is(settings):
    if not settings.redis_sentinels:
        pytest.skip("no sentinels on this topology")
    host, port = _sentinels(settings)[0]
    sentinel = aioredis.Redis(host=host, port=port, **redis_credentials(settings, "intake"))
    try:
        assert (await sentinel.sentinel_get_master_addr_by_name(settings.redis_master))[1]
        for refused in (
            sentinel.execute_command("SENTINEL", "SET", settings.redis_master, "quorum", "1"),
            sentinel.execute_command("SENTINEL", "FAILOVER", settings.redis_master),
            sentinel.execute_command("SENTINEL", "REMOVE", settings.redis_master),
        ):
            with pytest.raises(NoPermissionError):
                await refused
    finally:
        await sentinel.aclose()
