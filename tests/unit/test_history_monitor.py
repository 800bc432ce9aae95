"""The replica monitor of history reads: a failed check of any kind sends reads to the primary and the monitor
goes on; the next check that passes sends them back to the replica. (Found in CI: an asyncpg
InternalClientError across a replica restart killed the monitor, and history stayed on the primary for good.)"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import pytest

from intake import history


class _Replica:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures, self.expired, self.reads = failures, 0, 0

    async def fetchrow(self, query: str, *args):
        if self.failures:
            raise self.failures.pop(0)
        return {"standby": True, "replayed": "0/10", "since_replay": 0.2}

    async def fetch(self, query: str, *args):
        self.reads += 1
        if self.failures:
            raise self.failures.pop(0)
        return ["from the replica"]

    async def expire_connections(self) -> None:
        self.expired += 1


class _OneShard:
    """What BookingHistory needs of the shards: one shard, its replica and its primary."""

    def __init__(self, replica: _Replica) -> None:
        self.replicas, self.primaries = [replica], [_Primary()]


class _Primary:
    async def fetchval(self, query: str, *args):
        return "0/10"

    async def fetch(self, query: str, *args):
        return ["from the primary"]


async def test_the_monitor_survives_any_failed_check_and_comes_back(monkeypatch):
    monkeypatch.setattr(history, "MONITOR_INTERVAL_S", 0.01)
    broken = asyncpg.exceptions.InternalClientError("cannot switch to state 12; another operation is in progress")
    replica = _Replica([ConnectionRefusedError(111, "refused"), broken, broken])
    monitor = history.BookingHistory(_OneShard(replica), max_lag_s=5.0)
    shard = monitor._per_shard[0]
    task = asyncio.create_task(monitor._watch())
    try:
        async with asyncio.timeout(5):
            while replica.failures or not shard.replica_usable:
                assert not task.done(), task  # it never died
                await asyncio.sleep(0.01)
        assert not task.done()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert shard.replica_usable and replica.expired == 3  # each failure replaced the pool's connections


@pytest.mark.parametrize(
    "failure",
    [ConnectionResetError(104, "reset"), asyncpg.exceptions.InternalClientError("another operation is in progress")],
)
async def test_a_failed_replica_read_is_answered_from_the_primary(failure):
    replica = _Replica([failure])
    shard = history._ShardHistory(0, replica, _Primary(), max_lag_s=5.0)
    shard.replica_usable = True
    assert await shard.fetch("SELECT") == ["from the primary"]
    assert not shard.replica_usable and replica.expired == 1
    assert await shard.fetch("SELECT") == ["from the primary"]  # until a check passes again
    await shard.check_replica()
    assert await shard.fetch("SELECT") == ["from the replica"]


async def test_a_defect_in_the_query_is_raised_not_blamed_on_the_replica():
    replica = _Replica([asyncpg.exceptions.UndefinedColumnError('column "nope" does not exist')])
    shard = history._ShardHistory(0, replica, _Primary(), max_lag_s=5.0)
    shard.replica_usable = True
    with pytest.raises(asyncpg.exceptions.UndefinedColumnError):
        await shard.fetch("SELECT nope")
    assert shard.replica_usable and replica.expired == 0
