"""Booking history (`GET /v1/me/bookings`), newest first, from every shard's streaming read replica.

A shard's replica serves it while it is usable: it answers, it is a standby, and it lags its primary by no
more than `max_lag_s` (BOXOFFICE_REPLICA_MAX_LAG_S). Otherwise that shard's history falls back to its
primary, so a customer still sees their bookings when a replica is down or behind (one indexed read per
page; decisions never read a replica). A monitor checks each replica once a second and exports its lag in
bytes and seconds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import heapq
import itertools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import structlog
from prometheus_client import Counter, Gauge

from runtime.shards import Shards
from runtime.transient import is_transient
from schemas.api import BookingView
from schemas.events import Refusal
from schemas.fields import BookingId
from schemas.layout import Layout
from schemas.payments import Payment
from schemas.validation import convert

log = structlog.get_logger()
LAG_SECONDS = Gauge(
    "boxoffice_replica_lag_seconds", "How far a shard's read replica replays behind its primary", ["shard"]
)
LAG_BYTES = Gauge("boxoffice_replica_lag_bytes", "WAL a shard's read replica has not replayed yet", ["shard"])
USABLE = Gauge(
    "boxoffice_replica_usable", "1 when a shard's history reads go to its replica, 0: its primary", ["shard"]
)
READS = Counter("boxoffice_history_reads_total", "History pages, by the server that answered", ["server"])
MONITOR_INTERVAL_S = 1.0

_COLUMNS = (
    "b.booking_id, b.show_id, b.customer_id, b.status, b.seats, b.reason, b.expires_at, b.created_at, "
    "b.updated_at, b.refused_action, b.refused_reason, b.refused_at, b.extensions, b.payment, "
    "s.currency, s.sections AS show_sections, s.sale_opens_at"
)
# The show (same shard: rows live with their show's partition) gives the booking's total: its seats' prices.
# pg_is_in_recovery(): the server that answered says whether it is a standby (what the metric counts).
_FROM = "FROM bookings b LEFT JOIN shows s ON s.show_id = b.show_id"
_FIRST_PAGE = f"""SELECT {_COLUMNS}, pg_is_in_recovery() AS standby {_FROM}
                  WHERE b.customer_id = $1 AND b.partition = ANY($3::smallint[])
                  ORDER BY b.created_at DESC, b.booking_id DESC LIMIT $2"""
_NEXT_PAGE = f"""SELECT {_COLUMNS}, pg_is_in_recovery() AS standby {_FROM}
                 WHERE b.customer_id = $1 AND b.partition = ANY($3::smallint[])
                       AND (b.created_at, b.booking_id) < ($4, $5)
                 ORDER BY b.created_at DESC, b.booking_id DESC LIMIT $2"""


# What a replica connection can be left in across a restart of the replica (asyncpg once answered "cannot switch
# to state 12; another operation is in progress" on a pooled connection): the replica's trouble, not ours.
_CLIENT_STATE_ERRORS = (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError)


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


class _ShardHistory:
    """One shard's history reads: its replica while usable, else its primary."""

    def __init__(self, shard: int, replica: asyncpg.Pool, primary: asyncpg.Pool, max_lag_s: float) -> None:
        self.shard, self._replica, self._primary, self._max_lag_s = shard, replica, primary, max_lag_s
        self.replica_usable = False  # until the monitor has seen it
        self._unexpected: str | None = None  # the kind of unexpected failure last logged (once per kind)

    async def fetch(self, query: str, *args) -> list[asyncpg.Record]:
        if self.replica_usable:
            try:
                return await self._replica.fetch(query, *args)
            except Exception as exc:
                if not (is_transient(exc) or isinstance(exc, _CLIENT_STATE_ERRORS)):
                    raise  # a defect in the query, say: the primary would refuse it too, and the replica is fine
                await self.replica_failed("history read", exc)
        return await self._primary.fetch(query, *args)

    async def replica_failed(self, what: str, exc: Exception) -> None:
        """Reads go to the primary until a check passes again, and the pool's connections are replaced so a
        broken one is not handed out again. A lost connection is the weather; anything else is logged as an
        error, once per kind of exception until the replica answers a check again."""
        if not is_transient(exc) and type(exc).__name__ != self._unexpected:
            self._unexpected = type(exc).__name__
            log.error("replica failed unexpectedly", shard=self.shard, what=what, exc_info=exc)
        self._set_usable(False, f"{what} failed: {exc!r}")
        await self._replica.expire_connections()

    async def check_replica(self) -> None:
        standby = await self._replica.fetchrow(
            """SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replayed,
                      extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS since_replay"""
        )
        if not standby["standby"]:
            self._set_usable(False, "the read DSN is not a standby; reading history from the primary")
            self._unexpected = None  # it answered: a later failure of any kind is news again
            # A prefer-standby DSN chose the primary because no standby answered when it connected: connect
            # afresh next time, so a standby that is back (or a new one after a failover) is found again.
            await self._replica.expire_connections()
            return
        current = await self._primary.fetchval("SELECT pg_current_wal_lsn()::text")
        lag_bytes = max(0, _lsn(current) - _lsn(standby["replayed"] or "0/0"))
        # Caught up: no lag, however long ago the last transaction was. Behind: since the last replayed one.
        lag_s = 0.0 if lag_bytes == 0 else float(standby["since_replay"] or 0.0)
        LAG_BYTES.labels(str(self.shard)).set(lag_bytes)
        LAG_SECONDS.labels(str(self.shard)).set(lag_s)
        self._set_usable(lag_s <= self._max_lag_s, f"replica lags {lag_s:.1f}s ({lag_bytes} bytes)")
        self._unexpected = None

    def _set_usable(self, usable: bool, why: str) -> None:
        if usable != self.replica_usable:
            log.warning(
                "history reads from the replica" if usable else "history reads from the primary",
                shard=self.shard,
                why=why,
            )
        self.replica_usable = usable
        USABLE.labels(str(self.shard)).set(1 if usable else 0)


class BookingHistory:
    """A customer's bookings across every shard, newest first: each shard gives its newest page of the
    partitions the shard map gives it (during a move a partition's rows are on two shards; the source's
    are the truth until the switch), and the pages merge by (created_at, booking_id), the same order the
    cursor keeps, so a page boundary falls in the same place whichever shard a booking is on."""

    def __init__(self, shards: Shards, max_lag_s: float) -> None:
        assert shards.replicas is not None
        self._shards = shards
        self._per_shard = [
            _ShardHistory(i, replica, primary, max_lag_s)
            for i, (replica, primary) in enumerate(zip(shards.replicas, shards.primaries, strict=True))
        ]
        self._monitor: asyncio.Task | None = None

    async def for_customer(
        self, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[BookingView], str | None]:
        after = _decode_cursor(cursor) if cursor is not None else None
        smap = self._shards.map

        async def page_of(shard: _ShardHistory) -> list[asyncpg.Record]:
            owned = smap.owned(shard.shard)
            if after is None:
                return await shard.fetch(_FIRST_PAGE, customer_id, limit + 1, owned)
            return await shard.fetch(_NEXT_PAGE, customer_id, limit + 1, owned, *after)

        pages = await asyncio.gather(*[page_of(s) for s in self._per_shard])
        for page in pages:
            if page:
                READS.labels("replica" if page[0]["standby"] else "primary").inc()
        rows = heapq.merge(*pages, key=lambda r: (r["created_at"], r["booking_id"]), reverse=True)
        merged = list(itertools.islice(rows, limit + 1))
        more = len(merged) > limit
        merged = merged[:limit]
        layouts: dict[str, Layout] = {}
        bookings = [history_view(r, layouts) for r in merged]
        next_cursor = _encode_cursor(merged[-1]["created_at"], merged[-1]["booking_id"]) if more else None
        return bookings, next_cursor

    # ------------------------------------------------------------------ the replicas' health
    def start(self) -> None:
        self._monitor = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor

    async def _watch(self) -> None:
        """Never stops while the intake runs: a check that failed, however, leaves that shard's history on its
        primary until a later check passes (a monitor that died would leave it there for good, silently)."""
        while True:
            for shard in self._per_shard:
                try:
                    await shard.check_replica()
                except Exception as exc:
                    await shard.replica_failed("replica check", exc)
            await asyncio.sleep(MONITOR_INTERVAL_S)


def history_view(r: Mapping[str, Any], layouts: dict[str, Layout]) -> BookingView:
    """A history row as the API's view; the total is the seats' section prices, as the processor decides it
    (`layouts` memoises each show's layout over a page)."""
    seats = list(r["seats"])
    total, currency = None, None
    if seats and r["show_sections"] is not None:
        layout = layouts.get(r["show_id"])
        if layout is None:
            layout = layouts[r["show_id"]] = Layout.from_dicts(r["show_sections"])
        total, currency = layout.price_of(seats), r["currency"]
    return BookingView(
        booking_id=r["booking_id"],
        show_id=r["show_id"],
        customer_id=r["customer_id"],
        status=r["status"],
        seats=seats,
        reason=r["reason"],
        expires_at=r["expires_at"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        refused=Refusal(r["refused_action"], r["refused_reason"], r["refused_at"]) if r["refused_action"] else None,
        extensions=r["extensions"],
        total=total,
        currency=currency,
        sale_opens_at=r["sale_opens_at"] if r["reason"] == "sale_not_open" else None,
        payment=msgspec.convert(r["payment"], Payment) if r.get("payment") else None,
    )


# A history cursor: base64url of the JSON array [created_at (ISO 8601 with its offset), booking_id].
_cursor = msgspec.json.Decoder(tuple[str, str])


def _encode_cursor(created_at: datetime, booking_id: str) -> str:
    raw = msgspec.json.encode([created_at.isoformat(), booking_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    """(created_at, booking_id) of the last booking of the previous page; anything else is not a cursor
    this API issued (and must not reach PostgreSQL)."""
    try:
        created_at, booking_id = _cursor.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = datetime.fromisoformat(created_at)
        if when.tzinfo is None:
            raise ValueError("no offset")
        # In UTC now: an offset that moves the time out of the years 1..9999 (which PostgreSQL would refuse
        # with a 500) is refused here.
        return when.astimezone(UTC), convert(booking_id, BookingId)
    except (ValueError, OverflowError):  # SchemaError and msgspec.DecodeError are ValueErrors
        raise ValueError("invalid cursor") from None
