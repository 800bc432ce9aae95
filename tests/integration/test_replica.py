"""Each shard's standby under Patroni (stack/lib/postgres.sh): a hot standby streaming from the primary through a
replication slot Patroni keeps, named in synchronous_standby_names (a commit waits for it), refusing writes, and
what BOXOFFICE_PG_READ_DSN (prefer-standby) reaches while it is up."""

from __future__ import annotations

import asyncio
import secrets
import time

import asyncpg
import pytest

from runtime.clients import owner_dsn
from tests.support.pg_servers import nodes_per_shard

pytestmark = pytest.mark.skipif(nodes_per_shard() < 2, reason="the single topology has no standby")


async def _wait_visible(replica: asyncpg.Connection, query: str, expected: object, timeout: float = 10) -> float:
    started = time.monotonic()
    while True:
        try:
            if await replica.fetchval(query) == expected:
                return time.monotonic() - started
        except asyncpg.UndefinedTableError:
            pass  # the CREATE TABLE has not been replayed yet
        if time.monotonic() - started > timeout:
            raise AssertionError(f"the replica did not show {query!r} = {expected!r} within {timeout}s")
        await asyncio.sleep(0.05)


@pytest.fixture
async def primary(settings):
    conn = await asyncpg.connect(owner_dsn(settings))  # it makes a table; it reads pg_stat_replication (pg_monitor)
    yield conn
    await conn.close()


@pytest.fixture
async def replica(settings):
    assert "prefer-standby" in settings.pg_read_dsn, "the test stack's BOXOFFICE_PG_READ_DSN prefers a standby"
    conn = await asyncpg.connect(owner_dsn(settings, settings.pg_read_dsn))  # pg_stat_wal_receiver: pg_monitor
    yield conn
    await conn.close()


async def test_the_primary_streams_to_a_synchronous_standby_through_a_slot(primary, replica):
    row = await primary.fetchrow(
        "SELECT r.application_name, r.state, r.sync_state, s.slot_name, s.active FROM pg_stat_replication r "
        "JOIN pg_replication_slots s ON s.active_pid = r.pid"
    )
    assert row is not None, "no WAL sender feeds a replication slot"
    assert (row["state"], row["sync_state"], row["active"]) == ("streaming", "sync", True)
    assert row["application_name"] in await primary.fetchval("SHOW synchronous_standby_names")
    assert await primary.fetchval("SHOW synchronous_commit") in ("on", "remote_write", "remote_apply")
    assert await replica.fetchval("SELECT pg_is_in_recovery()") is True
    assert await replica.fetchval("SHOW hot_standby_feedback") == "on"
    assert await replica.fetchval("SELECT status FROM pg_stat_wal_receiver") == "streaming"


async def test_a_row_committed_on_the_primary_is_soon_visible_on_the_standby(primary, replica):
    table = f"replica_probe_{secrets.token_hex(4)}"
    await primary.execute(f"CREATE TABLE {table} (id text PRIMARY KEY, n int NOT NULL)")
    try:
        await primary.execute(f"INSERT INTO {table} VALUES ('a', 42)")
        await _wait_visible(replica, f"SELECT n FROM {table} WHERE id = 'a'", 42, timeout=30)
        assert await replica.fetchval("SELECT pg_last_xact_replay_timestamp() IS NOT NULL") is True
    finally:
        await primary.execute(f"DROP TABLE {table}")


async def test_the_standby_refuses_writes(replica):
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        await replica.execute("CREATE TABLE replica_must_refuse (id int)")
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        await replica.execute("UPDATE shows SET title = title WHERE false")
    assert await replica.fetchval("SHOW transaction_read_only") == "on"
