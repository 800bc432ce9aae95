"""`boxoffice shards` (the shard map) and `boxoffice shards move --partition P --to S`.

Moving a partition, while every other partition keeps being decided:
1. The catalog marks the partition as moving. Every process re-reads the map within a second: the
   processor holds the partition (stops consuming it; its commands wait in Kafka, accepted and queued),
   the notifier leaves its rows alone. The mover waits for that to settle.
2. On the source shard the partition's stored positions are paused. This is the fence: a processor with a
   stale map that still tries to commit a batch there is refused (the UPDATE waits for any transaction in
   flight, so nothing half-done remains).
3. Its rows (shows, seats, bookings, outbox, rejected shows, notification claims, positions) are copied to
   the target in one transaction, read from one snapshot of the source, and verified (counts and a hash per
   table). Outbox rows get the target's ids in their original order, so each show's events keep their order.
4. The map switches to the target; the source's rows of the partition are deleted, its positions stay as
   paused marks, so no processor can ever decide the partition there again.
5. Processors read the partition's position on the target and resume.
A move that fails before the switch is undone (the source unpaused, the copies deleted); running the same
move again after a crash of the mover picks it up: before the switch it starts over, after it it deletes
what the crashed mover left on the source.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from runtime.shards import REFRESH_S, Shards, read_shard_map
from schemas import topics

MAP_SETTLE_S = 2.5 * REFRESH_S  # every process has seen the map at least once since it changed


class MoveFailed(Exception):
    pass


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    where: str  # selects the partition's rows ($1 = partition)
    key: str  # a total order, for the verification hash
    copy_where: str | None = None  # which of them the source hands over (default: `where`)

    def select(self, columns: tuple[str, ...] | None = None, source: bool = False) -> str:
        where = self.copy_where if source and self.copy_where else self.where
        return f"SELECT {', '.join(columns or self.columns)} FROM {self.name} WHERE {where}"


_SHOWS_OF = "show_id IN (SELECT show_id FROM shows WHERE partition = $1)"
TABLES = (
    Table(
        "shows",
        (
            "show_id",
            "title",
            "venue",
            "starts_at",
            "hold_seconds",
            "sections",
            "seats_total",
            "seats_available",
            "version",
            "created_at",
            "partition",
            "max_seats_per_customer",
            "max_hold_extensions",
            "currency",
            "sale_opens_at",
            "sale_closes_at",
            "fair_start_window_s",
            "fair_start_seed",
            "fair_start_drawn",
            "waitlist_offer_seconds",
            "waitlist_seq",
            "cancelled_at",
            "cancellable_until_hours",
            "refund_percent",
        ),
        "partition = $1",
        "show_id",
    ),
    Table("seats", ("show_id", "seat_id", "booking_id", "state"), _SHOWS_OF, "show_id, seat_id"),
    Table(
        "bookings",
        (
            "booking_id",
            "request_id",
            "show_id",
            "customer_id",
            "email",
            "phone",
            "status",
            "requested_seats",
            "requested_quantity",
            "seats",
            "reason",
            "expires_at",
            "payment_reference",
            "created_at",
            "updated_at",
            "refused_action",
            "refused_reason",
            "refused_at",
            "partition",
            "extensions",
            "payment",
        ),
        "partition = $1",
        "booking_id",
    ),
    # Only what the source's relay has not published yet; no id or txid: the target gives the rows its own (its
    # relay publishes them after everything before the move), in this order (a show's events keep theirs).
    Table(
        "outbox",
        ("event_id", "show_id", "show_version", "events", "payload", "created_at", "partition"),
        "partition = $1",
        "event_id",
        copy_where="partition = $1 AND (txid, id) > (SELECT txid, last_id FROM relay_cursor)",
    ),
    Table(
        "fair_start_entries",
        ("show_id", "booking_id", "customer_id", "issued_at", "command", "partition"),
        "partition = $1",
        "show_id, booking_id",
    ),
    Table(
        "waitlist",
        ("show_id", "customer_id", "seq", "quantity", "section", "email", "phone", "joined_at", "partition"),
        "partition = $1",
        "show_id, customer_id",
    ),
    Table("rejected_shows", ("show_id", "reason", "rejected_at", "partition"), "partition = $1", "show_id"),
    Table(
        "checkins",
        (
            "show_id",
            "ticket_id",
            "booking_id",
            "seat",
            "gate",
            "checked_in_at",
            "command_id",
            "scanner_id",
            "partition",
        ),
        "partition = $1",
        "show_id, ticket_id",
    ),
    Table(
        "notifications",
        (
            "event_id",
            "channel",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "sent_at",
            "payload",
            "next_attempt_at",
            "partition",
        ),
        "partition = $1",
        "event_id, channel",
    ),
    Table(
        "consumer_positions",
        ("group_id", "topic", "partition", "next_offset", "updated_at", "paused"),
        f"topic = '{topics.COMMANDS}' AND partition = $1",
        "group_id",
    ),
)


async def describe(shards: Shards, primaries: tuple[str, ...], replicas: tuple[str, ...]) -> list[str]:
    smap = await shards.refresh()
    lines = []
    for partition in range(topics.COMMANDS_PARTITIONS):
        shard = smap.shard_of(partition)
        moving = f"  (moving to shard {smap.moving[partition]})" if partition in smap.moving else ""
        lines.append(
            f"partition {partition:>2} -> shard {shard}: primary {primaries[shard]}  replica {replicas[shard]}{moving}"
        )
    return lines


async def _table_hash(
    conn: asyncpg.Connection, table: Table, partition: int, source: bool = False
) -> tuple[int, str | None]:
    columns = tuple(c for c in table.columns if c != "paused")  # the copies are unpaused, by design
    row = await conn.fetchrow(
        f"""SELECT count(*) AS n, md5(string_agg(t::text, '|' ORDER BY {table.key})) AS h
            FROM ({table.select(columns, source)}) t""",
        partition,
    )
    return row["n"], row["h"]


async def move_partition(
    shards: Shards, partition: int, target: int, group: str, say: Callable[[str], None] = lambda _: None
) -> str:
    """Move `partition` to shard `target`; `group` is the processors' consumer group (its position is the
    fence)."""
    if not 0 <= partition < topics.COMMANDS_PARTITIONS:
        raise MoveFailed(f"partition must be 0..{topics.COMMANDS_PARTITIONS - 1}")
    if not 0 <= target < shards.count:
        raise MoveFailed(f"shard must be 0..{shards.count - 1}")
    catalog = shards.catalog
    async with catalog.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT shard, moving_to FROM shard_map WHERE topic = $1 AND partition = $2 FOR UPDATE",
            topics.COMMANDS,
            partition,
        )
        if row is None:
            raise MoveFailed(f"partition {partition} is not in the shard map (run boxoffice migrate)")
        source = row["shard"]
        if source == target and row["moving_to"] is None:
            finished = await _delete_left_behind(shards, partition, target)
            if finished:
                say(f"an earlier move's rows deleted from shard(s) {finished}")
            return f"partition {partition} is on shard {target} already"
        if row["moving_to"] is not None and row["moving_to"] != target:
            raise MoveFailed(f"partition {partition} is being moved to shard {row['moving_to']}; finish that first")
        await conn.execute(
            "UPDATE shard_map SET moving_to = $3, updated_at = now() WHERE topic = $1 AND partition = $2",
            topics.COMMANDS,
            partition,
            target,
        )
    say(f"partition {partition}: shard {source} -> {target}; processors hold it (its commands wait in Kafka)")
    await asyncio.sleep(MAP_SETTLE_S)
    src, dst = shards.primaries[source], shards.primaries[target]
    try:
        async with src.acquire() as conn, conn.transaction():
            # The processors' position exists paused even if the partition was never decided here: a
            # processor with a stale map cannot create it afresh and decide after the copy's snapshot.
            await conn.execute(
                """INSERT INTO consumer_positions (group_id, topic, partition, next_offset, paused)
                                  VALUES ($1, $2, $3, 0, true) ON CONFLICT DO NOTHING""",
                group,
                topics.COMMANDS,
                partition,
            )
            paused = await conn.execute(
                f"UPDATE consumer_positions SET paused = true WHERE {TABLES[-1].where}", partition
            )
        say(f"positions on shard {source} paused ({paused.split()[-1]} row(s)): no decision can commit there")
        counts = await _copy(src, dst, partition)
        say("copied and verified: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
    except BaseException:
        await _undo(shards, src, dst, partition)
        raise
    async with catalog.acquire() as conn:
        await conn.execute(
            "UPDATE shard_map SET shard = $3, moving_to = NULL, updated_at = now() WHERE topic = $1 AND partition = $2",
            topics.COMMANDS,
            partition,
            target,
        )
    say(f"shard map switched: partition {partition} -> shard {target}")
    await _delete_rows(src, partition)
    say(f"shard {source}: the partition's rows deleted (its positions stay, paused)")
    await read_shard_map(catalog, shards.count)
    return f"partition {partition} moved from shard {source} to shard {target}"


async def _delete_rows(pool: asyncpg.Pool, partition: int) -> int:
    """Delete the partition's rows but its positions (they stay behind, paused); how many were deleted."""
    deleted = 0
    async with pool.acquire() as conn, conn.transaction():
        for table in reversed(TABLES[:-1]):
            deleted += int((await conn.execute(f"DELETE FROM {table.name} WHERE {table.where}", partition)).split()[-1])
    return deleted


async def _delete_left_behind(shards: Shards, partition: int, owner: int) -> list[int]:
    """Shards other than the owner that still hold rows of the partition behind paused positions: a mover
    that crashed after the switch and before deleting them. Those rows are stale copies; delete them."""
    finished = []
    for shard, pool in enumerate(shards.primaries):
        if shard == owner:
            continue
        moved_away = await pool.fetchval(
            f"SELECT bool_and(paused) FROM consumer_positions WHERE {TABLES[-1].where}", partition
        )
        if moved_away and await _delete_rows(pool, partition):
            finished.append(shard)
    return finished


async def _copy(src: asyncpg.Pool, dst: asyncpg.Pool, partition: int) -> dict[str, int]:
    """Copy in one target transaction from one source snapshot; verify each table against that snapshot."""
    counts = {}
    async with src.acquire() as read, dst.acquire() as write:
        async with read.transaction(isolation="repeatable_read", readonly=True), write.transaction():
            for table in reversed(TABLES):  # clear what an earlier attempt (or an earlier stay) left
                await write.execute(f"DELETE FROM {table.name} WHERE {table.where}", partition)
            for table in TABLES:
                buffer = io.BytesIO()
                query = table.select(source=True)
                if table.name == "consumer_positions":
                    query = query.replace("paused", "false AS paused")
                if table.name == "outbox":
                    query += " ORDER BY txid, id"
                await read.copy_from_query(query, partition, output=buffer, format="binary")
                buffer.seek(0)
                await write.copy_to_table(table.name, source=buffer, columns=list(table.columns), format="binary")
            for table in TABLES:
                expected = await _table_hash(read, table, partition, source=True)
                copied = await _table_hash(write, table, partition)
                if expected != copied:
                    raise MoveFailed(
                        f"{table.name}: the copy differs ({copied[0]} rows) from the source ({expected[0]} rows)"
                    )
                counts[table.name] = expected[0]
    return counts


async def _undo(shards: Shards, src: asyncpg.Pool, dst: asyncpg.Pool, partition: int) -> None:
    """The map never switched: the source stays the truth; whatever reached the target goes (its positions
    stay as paused marks, like those of any partition that is not there)."""
    async with dst.acquire() as conn, conn.transaction():
        for table in reversed(TABLES[:-1]):
            await conn.execute(f"DELETE FROM {table.name} WHERE {table.where}", partition)
        await conn.execute(f"UPDATE consumer_positions SET paused = true WHERE {TABLES[-1].where}", partition)
    async with src.acquire() as conn:
        await conn.execute(f"UPDATE consumer_positions SET paused = false WHERE {TABLES[-1].where}", partition)
    async with shards.catalog.acquire() as conn:
        await conn.execute(
            "UPDATE shard_map SET moving_to = NULL, updated_at = now() WHERE topic = $1 AND partition = $2",
            topics.COMMANDS,
            partition,
        )
