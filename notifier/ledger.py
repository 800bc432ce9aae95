"""The notifier's bookkeeping in PostgreSQL: one row per (event, channel), on the show's shard.

A row is `sending` (claimed, or waiting for a retry at `next_attempt_at`), `sent` or `dead`. While a delivery
is in progress, `next_attempt_at` is its lease: the moment after which another attempt may take it (a crashed
notifier's deliveries are taken up again then). The lease's exact value is also the claim's token: a
delivery taken by the retry loop is renewed right before it is sent, and only if the row still carries the
lease it was taken with, so two notifiers never both send what one retry loop took.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from runtime.shards import Shards, partition_of
from schemas.events import BookingEvent, encode_event


class PartitionMoving(Exception):
    """The event's partition is being copied to another shard: its notification rows wait for the switch."""


class Claim:
    """A delivery this process may make now: the attempts made before it and the lease it holds."""

    __slots__ = ("attempts", "lease")

    def __init__(self, attempts: int, lease: datetime) -> None:
        self.attempts, self.lease = attempts, lease


class Due:
    """A row the retry loop took: its event (still encoded), channel, attempts and the lease it now holds."""

    __slots__ = ("attempts", "channel", "event_id", "lease", "payload")

    def __init__(self, event_id: str, channel: str, attempts: int, payload: bytes, lease: datetime) -> None:
        self.event_id, self.channel, self.attempts, self.payload, self.lease = (
            event_id,
            channel,
            attempts,
            payload,
            lease,
        )


class PgLedger:
    """The rows of an event live on its show's shard (they move with its partition)."""

    def __init__(self, shards: Shards) -> None:
        self._shards = shards

    @property
    def shards(self) -> int:
        return len(self._shards.primaries)

    def _pool(self, show_id: str) -> asyncpg.Pool:
        partition = partition_of(show_id)
        if partition in self._shards.map.moving:
            raise PartitionMoving(f"partition {partition} is moving to another shard")
        return self._shards.primary_for_partition(partition)

    async def claim(self, event: BookingEvent, channel: str, lease_s: float) -> Claim | None:
        """The first attempt: claim the row (made here), or take it over when its lease ran out. None when
        it is sent, dead, or in other hands (leased, or scheduled for the retry loop)."""
        row = await self._pool(event.show_id).fetchrow(
            """INSERT INTO notifications (event_id, channel, status, payload, next_attempt_at, partition)
               VALUES ($1, $2, 'sending', $3, now() + make_interval(secs => $4), $5)
               ON CONFLICT (event_id, channel) DO UPDATE
                 SET next_attempt_at = EXCLUDED.next_attempt_at,
                     payload = coalesce(notifications.payload, EXCLUDED.payload)
                 WHERE notifications.status = 'sending'
                   AND (notifications.next_attempt_at IS NULL OR notifications.next_attempt_at <= now())
               RETURNING attempts, next_attempt_at""",
            event.event_id,
            channel,
            encode_event(event),
            lease_s,
            partition_of(event.show_id),
        )
        return None if row is None else Claim(row["attempts"], row["next_attempt_at"])

    async def renew(self, event: BookingEvent, channel: str, lease: datetime, lease_s: float) -> Claim | None:
        """Right before a retry is sent: prove the bookkeeping answers now and the row is still the one taken
        (its lease unchanged). None when it was sent, killed or taken by another notifier meanwhile."""
        row = await self._pool(event.show_id).fetchrow(
            """UPDATE notifications SET next_attempt_at = now() + make_interval(secs => $4)
               WHERE event_id = $1 AND channel = $2 AND status = 'sending' AND next_attempt_at = $3
               RETURNING attempts, next_attempt_at""",
            event.event_id,
            channel,
            lease,
            lease_s,
        )
        return None if row is None else Claim(row["attempts"], row["next_attempt_at"])

    async def take_due(self, shard: int, lease_s: float, limit: int = 100) -> list[Due]:
        """Lease up to `limit` rows of `shard` whose retry (or lease) is due, of the partitions it holds."""
        rows = await self._shards.primaries[shard].fetch(
            """UPDATE notifications n SET next_attempt_at = now() + make_interval(secs => $1)
               FROM (SELECT event_id, channel FROM notifications
                     WHERE status = 'sending' AND next_attempt_at <= now() AND payload IS NOT NULL
                       AND (partition = ANY($2::smallint[]) OR partition IS NULL)
                     ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
               WHERE n.event_id = due.event_id AND n.channel = due.channel
               RETURNING n.event_id, n.channel, n.attempts, n.payload, n.next_attempt_at""",
            lease_s,
            self._shards.map.owned(shard),
            limit,
        )
        return [Due(r["event_id"], r["channel"], r["attempts"], r["payload"], r["next_attempt_at"]) for r in rows]

    async def mark_sent(self, event: BookingEvent, channel: str, attempts: int) -> None:
        """Unconditional: the message went out, whoever holds the lease now."""
        await self._pool(event.show_id).execute(
            """UPDATE notifications SET status = 'sent', attempts = $3, sent_at = now(), last_error = NULL,
                      next_attempt_at = NULL WHERE event_id = $1 AND channel = $2""",
            event.event_id,
            channel,
            attempts,
        )

    async def schedule_retry(
        self, event: BookingEvent, channel: str, attempts: int, error: str, delay_s: float
    ) -> None:
        await self._pool(event.show_id).execute(
            """UPDATE notifications SET attempts = $3, last_error = $4,
                      next_attempt_at = now() + make_interval(secs => $5)
               WHERE event_id = $1 AND channel = $2""",
            event.event_id,
            channel,
            attempts,
            error,
            delay_s,
        )

    async def mark_dead(self, event: BookingEvent, channel: str, attempts: int, error: str) -> None:
        await self._pool(event.show_id).execute(
            """UPDATE notifications SET status = 'dead', attempts = $3, last_error = $4, next_attempt_at = NULL
               WHERE event_id = $1 AND channel = $2""",
            event.event_id,
            channel,
            attempts,
            error,
        )
