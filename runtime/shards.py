"""PostgreSQL shards by show.

The logical shard is the Kafka partition of booking.commands: the show id is the message key, so a show's
partition never changes, a processor's batch is one partition, and one partition's rows (and its stored
position, the fence) live on one shard. No transaction ever spans shards. The shard map (the catalog, a
table in shard 0's database) assigns each partition to a physical shard: a primary and its streaming
replica, named by index in BOXOFFICE_PG_SHARD_DSNS / BOXOFFICE_PG_SHARD_READ_DSNS. A single-database
deployment is a map with one shard.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg
import structlog
from aiokafka.partitioner import murmur2

from runtime.retry import Retry
from schemas import topics

log = structlog.get_logger()
REFRESH_S = 1.0


def partition_of(show_id: str, partitions: int = topics.COMMANDS_PARTITIONS) -> int:
    """The partition of booking.commands a show's commands go to: what Kafka's default partitioner does
    with the key (murmur2, positive, modulo the partition count)."""
    return int(murmur2(show_id.encode()) & 0x7FFFFFFF) % partitions


@dataclass(frozen=True)
class ShardMap:
    shards: int
    owner: dict[int, int]  # partition -> shard
    moving: dict[int, int] = field(default_factory=dict)  # partition -> the shard it is being copied to
    topic: str = topics.COMMANDS

    @classmethod
    def default(cls, shards: int, partitions: int = topics.COMMANDS_PARTITIONS) -> ShardMap:
        return cls(shards, {p: p % shards for p in range(partitions)})

    def shard_of(self, partition: int) -> int:
        return self.owner.get(partition, partition % self.shards)

    def shard_of_show(self, show_id: str) -> int:
        return self.shard_of(partition_of(show_id))

    def owned(self, shard: int) -> list[int]:
        """The partitions whose rows on `shard` are the truth (during a move: still the source's)."""
        return sorted(p for p in range(topics.COMMANDS_PARTITIONS) if self.shard_of(p) == shard)


async def read_shard_map(
    catalog: asyncpg.Connection | asyncpg.Pool, shards: int, topic: str = topics.COMMANDS
) -> ShardMap:
    rows = await catalog.fetch("SELECT partition, shard, moving_to FROM shard_map WHERE topic = $1", topic)
    owner = {r["partition"]: r["shard"] for r in rows}
    bad = {p: s for p, s in owner.items() if s >= shards}
    if bad:
        raise RuntimeError(f"the shard map names shards this deployment does not have ({shards} configured): {bad}")
    return ShardMap(shards, owner, {r["partition"]: r["moving_to"] for r in rows if r["moving_to"] is not None}, topic)


async def seed_shard_map(
    catalog: asyncpg.Connection, shards: int, topic: str = topics.COMMANDS, partitions: int = topics.COMMANDS_PARTITIONS
) -> int:
    """Map every partition that has no shard yet to `p % shards`; returns how many were added."""
    added = await catalog.fetch(
        """INSERT INTO shard_map (topic, partition, shard)
           SELECT $1, p, p % $2 FROM generate_series(0, $3 - 1) AS p
           ON CONFLICT DO NOTHING RETURNING partition""",
        topic,
        shards,
        partitions,
    )
    await read_shard_map(catalog, shards, topic)  # refuses a map naming shards that are not configured
    return len(added)


class Shards:
    """A pool per shard (primaries, and optionally the read replicas) and the shard map, kept fresh."""

    def __init__(
        self,
        primaries: Sequence[asyncpg.Pool],
        replicas: Sequence[asyncpg.Pool] | None = None,
        topic: str = topics.COMMANDS,
    ) -> None:
        self.primaries = list(primaries)
        self.replicas = list(replicas) if replicas is not None else None
        self.topic = topic
        self.map = ShardMap.default(len(self.primaries))
        self._watcher: asyncio.Task[None] | None = None
        self.loaded = asyncio.Event()

    @property
    def count(self) -> int:
        return len(self.primaries)

    @property
    def catalog(self) -> asyncpg.Pool:
        return self.primaries[0]

    def primary_for_partition(self, partition: int) -> asyncpg.Pool:
        return self.primaries[self.map.shard_of(partition)]

    def primary_for_show(self, show_id: str) -> asyncpg.Pool:
        return self.primaries[self.map.shard_of_show(show_id)]

    async def refresh(self) -> ShardMap:
        fresh = await read_shard_map(self.catalog, self.count, self.topic)
        if fresh != self.map:
            log.info("shard map", owner=fresh.owner, moving=fresh.moving)
        self.map = fresh
        self.loaded.set()
        return fresh

    def watch(self) -> None:
        """Re-read the map every second in the background. While it cannot be read (the catalog does not
        answer, is not migrated yet, or holds a map that does not fit the shards) the last one read stays in
        use, or, before the first, nothing is decided (`loaded` stays unset); the reason is logged."""

        retry = Retry("shard map (keeping the last one)", cap=REFRESH_S)

        async def loop() -> None:
            while True:
                try:
                    await retry.run(self.refresh)
                except Exception as exc:
                    log.error("shard map unusable, keeping the last one", error=repr(exc))
                await asyncio.sleep(REFRESH_S)

        self._watcher = asyncio.create_task(loop())

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for pool in self.primaries + (self.replicas or []):
            await pool.close()


class AllShards(Shards):
    """Reads fan out to every shard's primary: `fetch` returns every shard's rows, `fetchrow` the first
    row found, `fetchval` the sum of `count(…)`/`sum(…)` results and otherwise the first value found;
    `execute` runs on every shard; `acquire()` is shard 0's (for tests that need one database)."""

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        rows = []
        for pool in self.primaries:
            rows += await pool.fetch(query, *args)
        return rows

    async def fetchrow(self, query: str, *args: Any) -> Any:
        for pool in self.primaries:
            row = await pool.fetchrow(query, *args)
            if row is not None:
                return row
        return None

    async def fetchval(self, query: str, *args: Any) -> Any:
        values = [await pool.fetchval(query, *args) for pool in self.primaries]
        found = [v for v in values if v is not None]
        lowered = query.lower()
        if (
            found
            and all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in found)
            and ("count(" in lowered or "sum(" in lowered)
        ):
            return sum(found)
        return found[0] if found else None

    async def execute(self, query: str, *args: Any) -> list[str]:
        return [await pool.execute(query, *args) for pool in self.primaries]

    def acquire(self) -> Any:
        return self.primaries[0].acquire()
