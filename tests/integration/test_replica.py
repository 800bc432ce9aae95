"""The streaming read replica of the local stack (stack/stack.sh component `replica`): a hot standby fed by
the primary through the slot boxoffice_replica, which BOXOFFICE_PG_READ_DSN points at."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg
import pytest

from bench.processes import alive as running
from bench.processes import free_port
from tests.support.processes import ROOT


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
    conn = await asyncpg.connect(settings.pg_dsn)
    yield conn
    await conn.close()


@pytest.fixture
async def replica(settings):
    assert settings.pg_read_dsn != settings.pg_dsn, "the test stack's BOXOFFICE_PG_READ_DSN names the replica"
    conn = await asyncpg.connect(settings.pg_read_dsn)
    yield conn
    await conn.close()


async def test_the_primary_streams_to_the_replica_through_its_slot(primary, replica):
    row = await primary.fetchrow(
        "SELECT r.state, r.usename, s.slot_name, s.active FROM pg_stat_replication r "
        "JOIN pg_replication_slots s ON s.active_pid = r.pid "
        "WHERE s.slot_name = 'boxoffice_replica'"
    )
    assert row is not None, "no WAL sender feeds the slot boxoffice_replica"
    assert dict(row) == {
        "state": "streaming",
        "usename": "replicator",
        "slot_name": "boxoffice_replica",
        "active": True,
    }
    assert await primary.fetchval("SELECT pg_is_in_recovery()") is False
    assert await replica.fetchval("SELECT pg_is_in_recovery()") is True
    assert await replica.fetchval("SHOW hot_standby_feedback") == "on"
    assert await replica.fetchval("SELECT status FROM pg_stat_wal_receiver") == "streaming"


async def test_a_row_written_on_the_primary_is_soon_visible_on_the_replica(primary, replica):
    table = f"replica_probe_{secrets.token_hex(4)}"
    await primary.execute(f"CREATE TABLE {table} (id text PRIMARY KEY, n int NOT NULL)")
    try:
        await primary.execute(f"INSERT INTO {table} VALUES ('a', 42)")
        await _wait_visible(replica, f"SELECT n FROM {table} WHERE id = 'a'", 42, timeout=30)
        assert await replica.fetchval("SELECT pg_last_xact_replay_timestamp() IS NOT NULL") is True
    finally:
        await primary.execute(f"DROP TABLE {table}")


async def test_the_replica_refuses_writes(replica):
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        await replica.execute("CREATE TABLE replica_must_refuse (id int)")
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        await replica.execute("UPDATE shows SET title = title WHERE false")
    assert await replica.fetchval("SHOW transaction_read_only") == "on"


def _stack(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(ROOT / "stack" / "stack.sh"), *args], env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    return result


def _psql(dsn: str, sql: str, check: bool = True) -> str:
    """psql, synchronously: a sync test cannot asyncio.run() while the session's event loop runs."""
    psql = Path(os.environ.get("BOXOFFICE_PG_BIN", "/usr/lib/postgresql/15/bin")) / "psql"
    result = subprocess.run(
        [str(psql), dsn, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True, timeout=30
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _postmaster_pid(data: Path) -> int | None:
    pidfile = data / "postmaster.pid"
    return int(pidfile.read_text().split()[0]) if pidfile.exists() else None


@pytest.mark.slow
def test_a_replica_that_lost_its_primary_is_re_created(settings):
    """A stack of its own (a primary and a replica only): a replica whose slot is gone, or whose primary
    was re-initialised, is copied afresh by `stack.sh up` instead of being left broken."""
    # Under the test stack's dir, not pytest's tmp_path: the postgres user must be able to enter it.
    stack_dir = Path(tempfile.mkdtemp(prefix="replica-", dir=settings.stack_dir))
    stack_dir.chmod(0o755)
    pg_port, replica_port = free_port(), free_port()
    env = {
        **os.environ,
        "BOXOFFICE_STACK_DIR": str(stack_dir),
        "BOXOFFICE_PG_PORT": str(pg_port),
        "BOXOFFICE_PG_REPLICA_PORT": str(replica_port),
        "BOXOFFICE_PG_DSN": f"postgresql://boxoffice@127.0.0.1:{pg_port}/boxoffice",
        "BOXOFFICE_PG_READ_DSN": f"postgresql://boxoffice@127.0.0.1:{replica_port}/boxoffice",
        "BOXOFFICE_PG_SHARDS": "1",  # one primary and its replica is what this test is about
        "BOXOFFICE_PG_SHARD_DSNS": f"postgresql://boxoffice@127.0.0.1:{pg_port}/boxoffice",
        "BOXOFFICE_PG_SHARD_READ_DSNS": f"postgresql://boxoffice@127.0.0.1:{replica_port}/boxoffice",
    }
    primary_dsn, replica_dsn = env["BOXOFFICE_PG_DSN"], env["BOXOFFICE_PG_READ_DSN"]

    def replica_shows(value: int) -> None:
        _psql(primary_dsn, "CREATE TABLE IF NOT EXISTS probe (n int)")
        _psql(primary_dsn, f"INSERT INTO probe VALUES ({value})")
        deadline = time.monotonic() + 30
        while _psql(replica_dsn, f"SELECT count(*) FROM probe WHERE n = {value}", check=False) != "1":
            assert time.monotonic() < deadline, f"the replica does not show row {value} within 30s"
            time.sleep(0.1)

    pids: list[int] = []
    try:
        _stack(env, "up", "postgres", "replica")
        replica_shows(1)
        status = _stack(env, "status", "postgres", "replica").stdout
        assert "postgres: running" in status and f"replica: running (127.0.0.1:{replica_port}" in status

        _stack(env, "down", "replica")
        _psql(primary_dsn, "SELECT pg_drop_replication_slot('boxoffice_replica')")
        up = _stack(env, "up", "postgres", "replica")
        assert "no longer matches the primary" in up.stderr
        replica_shows(2)

        _stack(env, "down")
        shutil.rmtree(stack_dir / "postgres" / "data")  # a primary initialised afresh
        up = _stack(env, "up", "postgres", "replica")
        assert "no longer matches the primary" in up.stderr
        replica_shows(3)
        pids = [
            p
            for p in (
                _postmaster_pid(stack_dir / "postgres" / "data"),
                _postmaster_pid(stack_dir / "postgres-replica" / "data"),
            )
            if p
        ]
        assert len(pids) == 2
    finally:
        down = subprocess.run(
            [str(ROOT / "stack" / "stack.sh"), "down", "postgres", "replica"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert down.returncode == 0, down.stderr
        assert not any(running(pid) for pid in pids)
        shutil.rmtree(stack_dir, ignore_errors=True)
