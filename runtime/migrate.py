"""Versioned SQL migrations: files NNNN_name.sql applied in order, each in its own transaction,
recorded in schema_migrations. An advisory lock makes concurrent runs wait instead of racing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

MIGRATIONS_DIR = Path(__file__).parent / "migrations"  # every shard
CATALOG_MIGRATIONS_DIR = MIGRATIONS_DIR / "catalog"  # the catalog, in shard 0's database
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x626F78  # "box"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.iterdir()):
        match = _NAME.match(path.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), path.read_text()))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration versions must be 1..n without gaps, found {versions}")
    return found


async def migrate(
    conn: asyncpg.Connection, migrations: list[Migration] | None = None, table: str = "schema_migrations"
) -> list[int]:
    """Apply pending migrations; returns the versions applied now (empty when up to date). `table` records
    them (the catalog's live in `catalog_migrations`, beside shard 0's own)."""
    migrations = load_migrations() if migrations is None else migrations
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            f"""CREATE TABLE IF NOT EXISTS {table} (
                   version integer PRIMARY KEY, name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {r["version"] for r in await conn.fetch(f"SELECT version FROM {table}")}
        applied = []
        for migration in migrations:
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    f"INSERT INTO {table} (version, name) VALUES ($1, $2)", migration.version, migration.name
                )
            applied.append(migration.version)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def migrate_shards(shard_conns: list[asyncpg.Connection], shards: int) -> list[str]:
    """Every shard's schema, then the catalog (in shard 0's database) and its shard map; rows written before
    partitions were recorded get theirs. Returns what was done, for the operator."""
    from runtime.shards import partition_of, seed_shard_map
    from schemas import topics

    done = []
    for i, conn in enumerate(shard_conns):
        applied = await migrate(conn)
        if applied:
            done.append(f"shard {i}: applied migrations {applied}")
        for table in ("shows", "bookings", "outbox", "rejected_shows"):
            shows = [
                r["show_id"] for r in await conn.fetch(f"SELECT DISTINCT show_id FROM {table} WHERE partition IS NULL")
            ]
            if shows:
                await conn.execute(
                    f"""UPDATE {table} t SET partition = r.partition
                        FROM unnest($1::text[], $2::smallint[]) AS r(show_id, partition)
                        WHERE t.show_id = r.show_id AND t.partition IS NULL""",
                    shows,
                    [partition_of(s) for s in shows],
                )
                done.append(f"shard {i}: recorded the partition of {len(shows)} show(s) in {table}")
    catalog = shard_conns[0]
    applied = await migrate(catalog, load_migrations(CATALOG_MIGRATIONS_DIR), table="catalog_migrations")
    if applied:
        done.append(f"catalog: applied migrations {applied}")
    # A partition already decided somewhere stays where its rows are (a deployment that grew from one shard);
    # a new one goes to p % K.
    mapped = {
        r["partition"] for r in await catalog.fetch("SELECT partition FROM shard_map WHERE topic = $1", topics.COMMANDS)
    }
    for partition in range(topics.COMMANDS_PARTITIONS):
        if partition in mapped:
            continue
        for i, conn in enumerate(shard_conns):
            if await conn.fetchval(
                """SELECT 1 FROM consumer_positions
                                      WHERE topic = $1 AND partition = $2 AND NOT paused LIMIT 1""",
                topics.COMMANDS,
                partition,
            ):
                await catalog.execute(
                    "INSERT INTO shard_map (topic, partition, shard) VALUES ($1, $2, $3)", topics.COMMANDS, partition, i
                )
                done.append(f"catalog: partition {partition} stays on shard {i}, where its rows are")
                break
    added = await seed_shard_map(catalog, shards)
    if added:
        done.append(f"catalog: mapped {added} partition(s) to shard p % {shards}")
    return done
