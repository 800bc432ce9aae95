"""Where a partition's batches are decided: the port the processor commits through, and its PostgreSQL adapter.

`Decisions` is what the processor needs of the database — a partition's stored position, and one batch decided
and committed with the position moved — so that the processor's own logic (batching, isolating a bad
command, fencing, re-seeking, retries) is unit-tested against an in-memory twin (tests/support/processor_fakes.py)
while production runs `PgDecisions`: one transaction per batch on the partition's shard, as store.py describes.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Protocol

import asyncpg
from aiokafka import TopicPartition

from booking_processor import metrics
from booking_processor.store import ShowCache, claim_position, load_batch, load_position, write_batch
from booking_processor.undecidable import Undecidable
from runtime.shards import Shards
from schemas.commands import CancelShow, CheckIn, Command, RequestBooking

Item = Command | Undecidable
_BOOKING_KEYS = frozenset({"bookings_pkey", "bookings_request_id_key"})


def refused_for_its_content(exc: BaseException) -> bool:
    """The database refused a command because of what it carries, not because of us: a value it cannot
    store (SQLSTATE class 22), or a request id that another booking already holds."""
    if isinstance(exc, asyncpg.DataError):
        return True
    return isinstance(exc, asyncpg.UniqueViolationError) and exc.constraint_name == "bookings_request_id_key"


class Decisions(Protocol):
    async def position(self, shard: int, group: str, tp: TopicPartition, initial: int) -> int:
        """The partition's stored position on `shard` (created at `initial` the first time); raises
        PartitionPaused when the shard keeps it only as the mark of a partition that moved away."""

    async def commit(
        self, shard: int, group: str, tp: TopicPartition, expected: int, next_offset: int, items: list[Item]
    ) -> None:
        """Decide `items` in order and commit them with the position moved from `expected` to `next_offset`,
        all or nothing. Raises Fenced (the stored position is not `expected`), PartitionPaused, a transient
        error, an error `refused_for_its_content`, or anything else (a defect)."""


class PgDecisions:
    def __init__(self, shards: Shards, cache: ShowCache | None = None) -> None:
        self.shards = shards
        self.cache = cache or ShowCache()

    async def position(self, shard: int, group: str, tp: TopicPartition, initial: int) -> int:
        async with self.shards.primaries[shard].acquire() as conn:
            return await load_position(conn, group, tp.topic, tp.partition, initial)

    async def commit(
        self, shard: int, group: str, tp: TopicPartition, expected: int, next_offset: int, items: list[Item]
    ) -> None:
        """Optimistic first: new booking requests are not looked up (a request is decided once, so a known
        id is rare: a client retry that raced its own first attempt). If one was known, the database's unique
        key refuses the batch, nothing of it is kept, and it is decided again with every id looked up."""
        try:
            await self._commit_once(shard, group, tp, expected, next_offset, items, look_up_requests=False)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name not in _BOOKING_KEYS:
                raise
            metrics.KNOWN_REQUESTS.inc()
            await self._commit_once(shard, group, tp, expected, next_offset, items, look_up_requests=True)

    async def _commit_once(
        self,
        shard: int,
        group: str,
        tp: TopicPartition,
        expected: int,
        next_offset: int,
        items: list[Item],
        look_up_requests: bool,
    ) -> None:
        show_ids = list({i.show_id for i in items})
        booking_ids = list(
            {
                i.booking_id
                for i in items
                if getattr(i, "booking_id", None) and (look_up_requests or not isinstance(i, RequestBooking))
            }
        )
        rejected = [i.show_id for i in items if isinstance(i, Undecidable) and i.kind == "CreateShow"]
        cancelling = [i.show_id for i in items if isinstance(i, CancelShow)]
        ticket_ids = [i.ticket_id for i in items if isinstance(i, CheckIn)]
        latest: dict[str, datetime] = {}  # per show, the latest acceptance: whether a fair start may draw
        for i in items:
            issued_at = getattr(i, "issued_at", None)
            if issued_at is not None and (i.show_id not in latest or issued_at > latest[i.show_id]):
                latest[i.show_id] = issued_at
        phase = metrics.PHASE_SECONDS
        try:
            async with self.shards.primaries[shard].acquire() as conn:
                started = time.perf_counter()
                async with conn.transaction():
                    now = await claim_position(conn, group, tp.topic, tp.partition, expected, next_offset)
                    if not items:
                        return
                    batch = await load_batch(
                        conn, self.cache, show_ids, booking_ids, now, rejected, latest, cancelling, ticket_ids
                    )
                    loaded = time.perf_counter()
                    for item in items:
                        batch.decide(item)
                    decided = time.perf_counter()
                    await write_batch(conn, batch, tp.partition)
                    written = time.perf_counter()
                committed = time.perf_counter()
            phase.labels("lock_and_load").observe(loaded - started)
            phase.labels("decide").observe(decided - loaded)
            phase.labels("write").observe(written - decided)
            phase.labels("commit").observe(committed - written)
        except BaseException:
            # The in-memory states may hold uncommitted decisions: reload them from the database next time.
            self.cache.discard(show_ids)
            raise
        for state in batch.shows.values():
            state.is_new = False
            state.seat_map.committed()
            self.cache.put(state)
        metrics.EVENTS.inc(len(batch.events))
