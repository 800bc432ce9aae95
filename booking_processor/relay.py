"""Outbox relay: publishes committed outbox rows to booking.events, keyed by show, in id order.

The relay reads the rows after its cursor in (txid, id) order, once every transaction that could still
write a row before them has ended (migration 0007 says why that order holds per show), so a show's events
reach Kafka in show_version order. The cursor moves only after the broker acked them all; a crash in
between publishes them again, and consumers skip what they already applied (show_version / event_id). One
relay is active at a time per shard (a PostgreSQL advisory lock); others wait as standbys.
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from booking_processor import metrics
from runtime.leadership import run_as_leader
from runtime.lifecycle import Lifecycle
from schemas import topics

log = structlog.get_logger()
_RELAY_LOCK = 0x72656C6179  # "relay"


class OutboxRelay:
    def __init__(
        self, connect, producer: AIOKafkaProducer, batch_max: int, lifecycle: Lifecycle, shard: int = 0
    ) -> None:
        self._shard = shard
        self._connect = connect  # coroutine factory for a dedicated connection (LISTEN + session lock)
        self._producer = producer
        self._batch_max = batch_max
        self._lifecycle = lifecycle
        self._wakeup = asyncio.Event()
        self._partitioner = DefaultPartitioner()  # the same murmur2 placement as a keyed send

    async def run(self) -> None:
        await run_as_leader(
            f"outbox relay (shard {self._shard})", _RELAY_LOCK, self._connect, self._lead, self._lifecycle
        )

    async def _lead(self, conn: asyncpg.Connection) -> None:
        await conn.add_listener("outbox", lambda *_: self._wakeup.set())
        await self._drain_forever(conn)

    async def _drain_forever(self, conn: asyncpg.Connection) -> None:
        while not self._lifecycle.stopping.is_set():
            self._wakeup.clear()
            published = await self.publish_pending(conn)
            if published < self._batch_max:  # caught up (a full fetch means there may be more)
                await self._lifecycle.wait_for(self._wakeup, timeout=0.5)
        # Drain what is committed before stopping.
        while await self.publish_pending(conn) >= self._batch_max:
            pass

    async def publish_pending(self, conn: asyncpg.Connection) -> int:
        """The next rows after the cursor whose transactions have all ended, published; then the cursor moves
        past them (one row updated, whatever the number of events; see migration 0007)."""
        # The cursor and the horizon first, as plain values, so that the read is an index range scan (both
        # functions are volatile: inside the read they would be evaluated per row, over the whole table). The
        # horizon is taken before the read, so every transaction below it has ended when the read looks.
        cursor = await conn.fetchrow(
            "SELECT txid, last_id, pg_snapshot_xmin(pg_current_snapshot()) AS horizon FROM relay_cursor"
        )
        # At most `batch_max` events (a row, one show's events of a transaction, is never split).
        rows = await conn.fetch(
            """SELECT id, txid, show_id, events, payload FROM (
                 SELECT id, txid, show_id, events, payload, sum(events) OVER (ORDER BY txid, id) - events AS before
                 FROM outbox WHERE (txid, id) > ($2::xid8, $3::bigint) AND txid < $4::xid8
                 ORDER BY txid, id LIMIT $1) t
               WHERE before < $1 ORDER BY txid, id""",
            self._batch_max,
            cursor["txid"],
            cursor["last_id"],
            cursor["horizon"],
        )
        if not rows:
            return 0
        await self._publish(rows)
        await conn.execute(
            "UPDATE relay_cursor SET txid = $1, last_id = $2, updated_at = now()", rows[-1]["txid"], rows[-1]["id"]
        )
        events = sum(row["events"] for row in rows)
        metrics.RELAY_PUBLISHED.inc(events)
        return events

    async def _publish(self, rows: list[asyncpg.Record]) -> None:
        """Send rows as record batches per partition (far cheaper than one send per message), in id order
        within each partition, and wait until the broker acked them all."""
        partitions = sorted(await self._producer.partitions_for(topics.EVENTS))
        by_partition: dict[int, list[asyncpg.Record]] = {}
        for row in rows:
            key = row["show_id"].encode()
            by_partition.setdefault(self._partitioner(key, partitions, partitions), []).append(row)
        futures = []
        for partition, members in by_partition.items():
            batch = self._producer.create_batch()
            for row in members:
                key = row["show_id"].encode()
                for event in row["payload"].split(b"\n"):  # one Kafka record per event (migration 0008)
                    if batch.append(key=key, value=event, timestamp=None) is None:
                        batch.close()
                        futures.append(await self._producer.send_batch(batch, topics.EVENTS, partition=partition))
                        batch = self._producer.create_batch()
                        batch.append(key=key, value=event, timestamp=None)
            batch.close()
            futures.append(await self._producer.send_batch(batch, topics.EVENTS, partition=partition))
        await asyncio.gather(*futures)
