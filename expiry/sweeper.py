"""Why a PostgreSQL sweep: PostgreSQL is the truth about which holds are PENDING and when they are due
(`bookings_pending_by_expiry` is a partial index on exactly those rows), so the sweep needs no state of its
own that could be lost: after any outage or restart, the first sweep finds every overdue hold. It does not
decide anything itself: it sends ExpireBooking through booking.commands, so the processor stays the only
writer, and a late, repeated or concurrent expire (several instances, a confirm that got there first) is a
no-op there. One instance sweeps at a time (an advisory lock); standbys take over when it dies.

Fair starts are swept the same way: a show whose window is over and not drawn yet gets a DrawFairStart (the
first request after the window draws too; this one makes sure a window nobody follows is decided). And a show
whose sale is over while customers still wait on its waiting list gets a CloseSales: the processor answers
their places (`sale_closed`), so nobody waits for an offer that can no longer come.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from cachetools import TTLCache
from prometheus_client import Counter, Gauge

from runtime.leadership import run_as_leader
from runtime.lifecycle import Lifecycle
from schemas import topics
from schemas.commands import CloseSales, Command, DrawFairStart, ExpireBooking, encode_command

log = structlog.get_logger()
EXPIRES_SENT = Counter("boxoffice_expiry_commands_total", "ExpireBooking commands sent")
DRAWS_SENT = Counter("boxoffice_fair_start_draws_sent_total", "DrawFairStart commands sent")
CLOSES_SENT = Counter("boxoffice_ended_sale_closes_sent_total", "CloseSales sent for ended sales with waiting places")
OVERDUE = Gauge("boxoffice_expiry_overdue_holds", "PENDING holds past expires_at at the last sweep", ["shard"])
_SWEEP_LOCK = 0x657870697279  # "expiry"
RESEND_AFTER_S = 5.0


class ExpirySweeper:
    """Sweeps one shard. Only the partitions the shard map gives the shard count: during a move their rows
    are on two shards, and the source's are the truth until the switch."""

    def __init__(
        self,
        connect,
        producer: AIOKafkaProducer,
        interval_s: float,
        lifecycle: Lifecycle,
        owned: Callable[[], list[int]],
        shard: int = 0,
        batch_max: int = 2000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect, self._producer, self._owned, self._shard = connect, producer, owned, shard
        self._interval, self._lifecycle, self._batch_max = interval_s, lifecycle, batch_max
        # Booking ids whose expire was sent in the last RESEND_AFTER_S (not sent again while in flight).
        self._sent: TTLCache[str, bool] = TTLCache(maxsize=1_000_000, ttl=RESEND_AFTER_S, timer=clock)

    async def run(self) -> None:
        await run_as_leader(
            f"expiry sweeper (shard {self._shard})",
            _SWEEP_LOCK,
            self._connect,
            self._sweep_forever,
            self._lifecycle,
            retry_s=self._interval,
        )

    async def _sweep_forever(self, conn: asyncpg.Connection) -> None:
        while not self._lifecycle.stopping.is_set():
            await self.sweep_draws(conn)
            await self.sweep_closed_waitlists(conn)
            sent = await self.sweep(conn)
            if sent < self._batch_max:
                await self._lifecycle.sleep(self._interval)

    async def sweep(self, conn: asyncpg.Connection) -> int:
        rows = await conn.fetch(
            """SELECT booking_id, show_id FROM bookings
               WHERE status = 'PENDING' AND expires_at <= statement_timestamp() AND partition = ANY($2::smallint[])
               ORDER BY expires_at LIMIT $1""",
            self._batch_max,
            self._owned(),
        )
        OVERDUE.labels(str(self._shard)).set(len(rows))
        issued_at = datetime.now(UTC)
        sent = await self._send(
            {
                r["booking_id"]: ExpireBooking(
                    command_id=secrets.token_hex(12),
                    show_id=r["show_id"],
                    issued_at=issued_at,
                    booking_id=r["booking_id"],
                )
                for r in rows
            }
        )
        EXPIRES_SENT.inc(sent)
        if sent:
            log.info("expire commands sent", count=sent)
        return sent

    async def sweep_draws(self, conn: asyncpg.Connection) -> int:
        """A DrawFairStart for each show of the shard whose fair-start window is over and not drawn."""
        return await self._per_show(
            conn,
            """SELECT show_id FROM shows
               WHERE fair_start_window_s > 0 AND NOT fair_start_drawn AND sale_opens_at <= statement_timestamp()
                 AND sale_opens_at + make_interval(secs => fair_start_window_s) <= statement_timestamp()
                 AND partition = ANY($1::smallint[])""",
            DrawFairStart,
            DRAWS_SENT,
        )

    async def sweep_closed_waitlists(self, conn: asyncpg.Connection) -> int:
        """A CloseSales for each show of the shard whose sale is over while someone still waits."""
        return await self._per_show(
            conn,
            """SELECT DISTINCT w.show_id FROM waitlist w JOIN shows s ON s.show_id = w.show_id
               WHERE coalesce(s.sale_closes_at, s.starts_at) <= statement_timestamp()
                 AND w.partition = ANY($1::smallint[])""",
            CloseSales,
            CLOSES_SENT,
        )

    async def _per_show(
        self, conn: asyncpg.Connection, query: str, kind: type[DrawFairStart] | type[CloseSales], sent_total: Counter
    ) -> int:
        """One `kind` command for each show the query finds (among the shard's owned partitions)."""
        issued_at = datetime.now(UTC)
        sent = await self._send(
            {
                f"{kind.__name__}:{r['show_id']}": kind(
                    command_id=secrets.token_hex(12), show_id=r["show_id"], issued_at=issued_at
                )
                for r in await conn.fetch(query, self._owned())
            }
        )
        sent_total.inc(sent)
        if sent:
            log.info("show commands sent", kind=kind.__name__, count=sent)
        return sent

    async def _send(self, commands: dict[str, Command]) -> int:
        """Publish the commands not sent in the last RESEND_AFTER_S (keyed by what they are about)."""
        due = {key: c for key, c in commands.items() if key not in self._sent}
        if not due:
            return 0
        futures = [
            await self._producer.send(topics.COMMANDS, encode_command(c), key=c.show_id.encode()) for c in due.values()
        ]
        await asyncio.gather(*futures)
        for key in due:
            self._sent[key] = True
        return len(due)
