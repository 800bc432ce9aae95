"""PostgreSQL side of a batch: lock and load the state a batch decides over, then write what it changed
with set-based statements. Always called inside one transaction."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec
from cachetools import LRUCache

from booking_processor.decide import Batch, BookingState, Checkin, ShowState, WaitEntry
from booking_processor.seat_map import SeatMap
from schemas.commands import RequestBooking, decode_command, encode_command
from schemas.events import Refusal, encode_event
from schemas.layout import Layout
from schemas.payments import Payment


class Fenced(Exception):
    """The stored position moved under us: another processor owns the partition now."""


class PartitionPaused(Exception):
    """The partition's position on this shard is paused: it is moving, or has moved, to another shard."""


class IntegrityViolation(Exception):
    """The database does not look like the decision assumed; the batch must not commit."""


class ShowCache:
    """Committed show states (with seat maps) of the shows this processor decided recently.

    An entry is used only when its version equals the version of the row just locked, so anything that
    changed the show elsewhere (another processor, an admin) is noticed and the state is reloaded.
    """

    def __init__(self, capacity: int = 2000) -> None:
        self._entries: LRUCache[str, ShowState] = LRUCache(maxsize=capacity)

    def get(self, show_id: str, version: int) -> ShowState | None:
        state = self._entries.get(show_id)
        if state is None or state.version != version:
            return None
        return state

    def put(self, state: ShowState) -> None:
        self._entries[state.show_id] = state

    def discard(self, show_ids) -> None:
        for show_id in show_ids:
            self._entries.pop(show_id, None)


async def claim_position(
    conn: asyncpg.Connection, group: str, topic: str, partition: int, expected: int, next_offset: int
) -> datetime:
    """Move the partition's stored position from `expected` to `next_offset`; returns the database clock.

    Taken first in every transaction: two processors that both think they own a partition serialise here,
    and the one whose expectation is stale is fenced off."""
    now = await conn.fetchval(
        """UPDATE consumer_positions SET next_offset = $5, updated_at = now()
           WHERE group_id = $1 AND topic = $2 AND partition = $3 AND next_offset = $4 AND NOT paused
           RETURNING clock_timestamp()""",
        group,
        topic,
        partition,
        expected,
        next_offset,
    )
    if now is None:
        if await conn.fetchval(
            """SELECT paused FROM consumer_positions
                                  WHERE group_id = $1 AND topic = $2 AND partition = $3""",
            group,
            topic,
            partition,
        ):
            raise PartitionPaused(f"{topic}[{partition}] is paused on this shard (moving or moved)")
        raise Fenced(f"{topic}[{partition}] is not at {expected}")
    return now


async def load_position(conn: asyncpg.Connection, group: str, topic: str, partition: int, initial: int) -> int:
    """The partition's stored position on this shard (created at `initial` the first time); PartitionPaused
    when the shard keeps it only as the mark of a partition that moved away."""
    await conn.execute(
        """INSERT INTO consumer_positions (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING""",
        group,
        topic,
        partition,
        initial,
    )
    row = await conn.fetchrow(
        """SELECT next_offset, paused FROM consumer_positions
           WHERE group_id = $1 AND topic = $2 AND partition = $3""",
        group,
        topic,
        partition,
    )
    if row["paused"]:
        raise PartitionPaused(f"{topic}[{partition}] is paused on this shard (moving or moved)")
    return row["next_offset"]


async def load_batch(
    conn: asyncpg.Connection,
    cache: ShowCache,
    show_ids: list[str],
    booking_ids: list[str],
    now: datetime,
    rejected_show_ids: list[str] | None = None,
    latest_issued: dict[str, datetime] | None = None,
    cancelling: list[str] | None = None,
    ticket_ids: list[str] | None = None,
) -> Batch:
    """`latest_issued`: per show, the latest `issued_at` of the batch's commands, which says whether a
    fair start's draw may come in the batch (then its stored entries are loaded). `cancelling`: shows the
    batch may cancel (their live bookings and any fair start's entries are loaded)."""
    # Lock the shows in a fixed (sorted) order, once per transaction.
    rows = await conn.fetch(
        """SELECT show_id, title, venue, starts_at, hold_seconds, sections, version, seats_available, created_at,
                  max_seats_per_customer, max_hold_extensions, currency,
                  sale_opens_at, coalesce(sale_closes_at, starts_at) AS sale_closes_at,
                  fair_start_window_s, fair_start_seed, fair_start_drawn, waitlist_offer_seconds, waitlist_seq,
                  cancelled_at, cancellable_until_hours, refund_percent
           FROM shows WHERE show_id = ANY($1::text[]) ORDER BY show_id FOR UPDATE""",
        sorted(show_ids),
    )
    shows: dict[str, ShowState] = {}
    for row in rows:
        state = cache.get(row["show_id"], row["version"])
        if state is not None and state.fair_start_drawn != row["fair_start_drawn"]:
            state = None  # drawn elsewhere without a new version (a window without entries)
        if state is None:
            layout = Layout.from_dicts(row["sections"])
            owner = {
                r["seat_id"]: (r["booking_id"], r["state"])
                for r in await conn.fetch(
                    "SELECT seat_id, booking_id, state FROM seats WHERE show_id = $1", row["show_id"]
                )
            }
            state = ShowState(
                show_id=row["show_id"],
                title=row["title"],
                venue=row["venue"],
                starts_at=row["starts_at"],
                hold_seconds=row["hold_seconds"],
                layout=layout,
                version=row["version"],
                created_at=row["created_at"],
                seat_map=SeatMap(layout, owner),
                max_seats_per_customer=row["max_seats_per_customer"],
                max_hold_extensions=row["max_hold_extensions"],
                currency=row["currency"],
                sale_opens_at=row["sale_opens_at"],
                sale_closes_at=row["sale_closes_at"],
                fair_start_window_s=row["fair_start_window_s"],
                fair_start_seed=row["fair_start_seed"],
                fair_start_drawn=row["fair_start_drawn"],
                live_seats=await _live_seats(conn, row["show_id"]),
                waitlist_offer_seconds=row["waitlist_offer_seconds"],
                waitlist=await _waitlist(conn, row["show_id"]),
                waitlist_seq=row["waitlist_seq"],
                cancelled_at=row["cancelled_at"],
                cancellable_until_hours=row["cancellable_until_hours"],
                refund_percent=row["refund_percent"],
            )
        if state.seats_available != row["seats_available"]:
            raise IntegrityViolation(
                f"show {row['show_id']}: seats_available {row['seats_available']} but "
                f"{state.seats_available} free seats in the seats table"
            )
        shows[state.show_id] = state
    bookings = {}
    cancel = sorted(set(cancelling or ()) & set(shows))
    rows = []
    if booking_ids:
        rows += await conn.fetch("SELECT * FROM bookings WHERE booking_id = ANY($1::text[])", booking_ids)
    if cancel:
        rows += await conn.fetch(
            "SELECT * FROM bookings WHERE show_id = ANY($1::text[]) AND status IN ('PENDING', 'CONFIRMED')", cancel
        )
    for r in rows:
        bookings[r["booking_id"]] = BookingState(
            booking_id=r["booking_id"],
            request_id=r["request_id"],
            show_id=r["show_id"],
            customer_id=r["customer_id"],
            email=r["email"],
            phone=r["phone"],
            status=r["status"],
            requested_seats=r["requested_seats"],
            requested_quantity=r["requested_quantity"],
            seats=list(r["seats"]),
            reason=r["reason"],
            expires_at=r["expires_at"],
            payment_reference=r["payment_reference"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
            refused=Refusal(r["refused_action"], r["refused_reason"], r["refused_at"]) if r["refused_action"] else None,
            extensions=r["extensions"],
            payment=msgspec.convert(r["payment"], Payment) if r["payment"] else None,
        )
    rejected: set[str] = set()
    if rejected_show_ids:
        rejected = {
            r["show_id"]
            for r in await conn.fetch(
                "SELECT show_id FROM rejected_shows WHERE show_id = ANY($1::text[])", rejected_show_ids
            )
        }
    batch = Batch(shows=shows, bookings=bookings, now=now, rejected_shows=rejected, live_loaded=set(cancel))
    if ticket_ids:  # the admissions of the tickets scanned, read under their shows' row locks
        for r in await conn.fetch(
            """SELECT show_id, ticket_id, booking_id, seat, gate, checked_in_at, command_id, scanner_id
               FROM checkins WHERE show_id = ANY($1::text[]) AND ticket_id = ANY($2::text[])""",
            list(shows),
            ticket_ids,
        ):
            batch.checkins[r["ticket_id"]] = Checkin(**dict(r))
    latest = latest_issued or {}
    due = [
        s.show_id
        for s in shows.values()
        if s.awaits_draw and (s.show_id in cancel or s.draw_may_come(latest.get(s.show_id), now))
    ]
    if due:
        await _load_entries(conn, batch, due)
    return batch


async def _load_entries(conn: asyncpg.Connection, batch: Batch, show_ids: list[str]) -> None:
    """The stored fair-start entries of shows whose draw may come in this batch (under their row locks)."""
    for show_id in show_ids:
        batch.entries[show_id] = []
    rows = await conn.fetch(
        """SELECT e.command, b.booking_id IS NOT NULL AS decided FROM fair_start_entries e
           LEFT JOIN bookings b ON b.booking_id = e.booking_id WHERE e.show_id = ANY($1::text[])""",
        show_ids,
    )
    for r in rows:
        entry = decode_command(bytes(r["command"]))
        if not isinstance(entry, RequestBooking):
            raise IntegrityViolation(f"a fair-start entry is a {entry.type}, not a RequestBooking")
        batch.entry_ids.add(entry.booking_id)
        if not r["decided"]:  # one decided otherwise (dead-lettered: invalid_request) is not drawn again
            batch.entries[entry.show_id].append(entry)


async def _live_seats(conn: asyncpg.Connection, show_id: str) -> dict[str, int]:
    """customer -> seats of their live bookings of the show, read under the show's row lock: with the seat map,
    the state the per-customer limit is decided on (ShowState.live_seats keeps it from then on)."""
    rows = await conn.fetch(
        """SELECT customer_id, sum(cardinality(seats))::int AS seats FROM bookings
           WHERE show_id = $1 AND status IN ('PENDING', 'CONFIRMED') GROUP BY customer_id""",
        show_id,
    )
    return {r["customer_id"]: r["seats"] for r in rows if r["seats"]}


async def _waitlist(conn: asyncpg.Connection, show_id: str) -> dict[str, WaitEntry]:
    """The show's waiting customers in join order, read under the show's row lock (then kept in memory)."""
    rows = await conn.fetch(
        """SELECT customer_id, seq, quantity, section, email, phone, joined_at FROM waitlist
           WHERE show_id = $1 ORDER BY seq""",
        show_id,
    )
    return {r["customer_id"]: WaitEntry(**dict(r)) for r in rows}


_ISO_CACHE: LRUCache[datetime, str] = LRUCache(maxsize=4096)


def _iso(value: datetime | None) -> str | None:
    """isoformat of a time; a batch has few distinct ones (its clock, its expiry), so they are memoised."""
    if value is None:
        return None
    text = _ISO_CACHE.get(value)
    if text is None:
        text = _ISO_CACHE[value] = value.isoformat()
    return text


async def write_batch(conn: asyncpg.Connection, batch: Batch, partition: int) -> None:
    """Write every change of the batch: a handful of statements whatever the number of commands. New rows
    record `partition` (booking.commands'), the unit a shard move copies."""
    if batch.new_shows:
        records = []
        for show_id in batch.new_shows:
            s = batch.shows[show_id]
            records.append(
                {
                    "show_id": s.show_id,
                    "title": s.title,
                    "venue": s.venue,
                    "starts_at": _iso(s.starts_at),
                    "hold_seconds": s.hold_seconds,
                    "sections": s.layout.to_list(),
                    "seats_total": s.seats_total,
                    "seats_available": s.seats_available,
                    "version": s.version,
                    "created_at": _iso(s.created_at),
                    "partition": partition,
                    "max_seats_per_customer": s.max_seats_per_customer,
                    "max_hold_extensions": s.max_hold_extensions,
                    "currency": s.currency,
                    "sale_opens_at": _iso(s.sale_opens_at),
                    "sale_closes_at": _iso(s.sale_closes_at),
                    "fair_start_window_s": s.fair_start_window_s,
                    "fair_start_seed": s.fair_start_seed,
                    "waitlist_offer_seconds": s.waitlist_offer_seconds,
                    "waitlist_seq": s.waitlist_seq,
                    "cancelled_at": _iso(s.cancelled_at),
                    "fair_start_drawn": s.fair_start_drawn,
                    "cancellable_until_hours": s.cancellable_until_hours,
                    "refund_percent": s.refund_percent,
                }
            )
        await conn.execute(
            """INSERT INTO shows (show_id, title, venue, starts_at, hold_seconds, sections, seats_total,
                                  seats_available, version, created_at, partition, max_seats_per_customer,
                                  max_hold_extensions, currency, sale_opens_at, sale_closes_at,
                                  fair_start_window_s, fair_start_seed, waitlist_offer_seconds, waitlist_seq,
                                  cancelled_at, fair_start_drawn, cancellable_until_hours, refund_percent)
               SELECT show_id, title, venue, starts_at, hold_seconds, sections, seats_total, seats_available,
                      version, created_at, partition, max_seats_per_customer, max_hold_extensions, currency,
                      sale_opens_at, sale_closes_at, fair_start_window_s, fair_start_seed, waitlist_offer_seconds,
                      waitlist_seq, cancelled_at, fair_start_drawn, cancellable_until_hours, refund_percent
               FROM jsonb_to_recordset($1::jsonb) AS r(show_id text, title text, venue text,
                    starts_at timestamptz, hold_seconds int, sections jsonb, seats_total int,
                    seats_available int, version bigint, created_at timestamptz, partition smallint,
                    max_seats_per_customer int, max_hold_extensions int, currency text,
                    sale_opens_at timestamptz, sale_closes_at timestamptz, fair_start_window_s int,
                    fair_start_seed text, waitlist_offer_seconds int, waitlist_seq bigint,
                    cancelled_at timestamptz, fair_start_drawn boolean, cancellable_until_hours int,
                    refund_percent int)""",
            records,
        )
    if batch.new_rejected_shows:
        await conn.execute(
            """INSERT INTO rejected_shows (show_id, reason, rejected_at, partition)
               SELECT unnest($1::text[]), 'invalid_request', $2, $3""",
            batch.new_rejected_shows,
            batch.now,
            partition,
        )
    if batch.new_bookings:
        # Binary COPY: the cheapest way to add many rows (no SQL text, no JSON to parse server-side).
        await conn.copy_records_to_table(
            "bookings",
            columns=_BOOKING_COLUMNS,
            records=[(*_booking_tuple(batch.bookings[b]), partition) for b in batch.new_bookings],
        )
    if batch.updated_bookings:
        records = [_booking_record(batch.bookings[b]) for b in batch.updated_bookings]
        await conn.execute(
            """UPDATE bookings b SET status = r.status, reason = r.reason, seats = r.seats,
                      expires_at = r.expires_at, payment_reference = r.payment_reference,
                      updated_at = r.updated_at, refused_action = r.refused_action,
                      refused_reason = r.refused_reason, refused_at = r.refused_at, extensions = r.extensions,
                      payment = r.payment
               FROM jsonb_to_recordset($1::jsonb) AS r(booking_id text, status text, reason text, seats text[],
                    expires_at timestamptz, payment_reference text, updated_at timestamptz,
                    refused_action text, refused_reason text, refused_at timestamptz, extensions int, payment jsonb)
               WHERE b.booking_id = r.booking_id""",
            records,
        )
    if batch.new_checkins:
        # The primary key refuses a second admission of a ticket, whatever the decision thought.
        await conn.copy_records_to_table(
            "checkins",
            columns=(*_CHECKIN_COLUMNS, "partition"),
            records=[(*(getattr(c, f) for f in _CHECKIN_COLUMNS), partition) for c in batch.new_checkins],
        )
    await _write_entries(conn, batch, partition)
    await _write_waitlist(conn, batch, partition)
    await _write_seats(conn, batch)
    changed = [batch.shows[s] for s in batch.changed_shows if not batch.shows[s].is_new]
    if changed:
        await conn.execute(
            """UPDATE shows s SET version = r.version, seats_available = r.seats_available, waitlist_seq = r.seq,
                      sale_closes_at = r.closes, cancelled_at = r.cancelled, title = r.title, venue = r.venue,
                      starts_at = r.starts
               FROM unnest($1::text[], $2::bigint[], $3::int[], $4::bigint[], $5::timestamptz[], $6::timestamptz[],
                           $7::text[], $8::text[], $9::timestamptz[])
                    AS r(show_id, version, seats_available, seq, closes, cancelled, title, venue, starts)
               WHERE s.show_id = r.show_id""",
            [s.show_id for s in changed],
            [s.version for s in changed],
            [s.seats_available for s in changed],
            [s.waitlist_seq for s in changed],
            [s.sale_closes_at for s in changed],
            [s.cancelled_at for s in changed],
            [s.title for s in changed],
            [s.venue for s in changed],
            [s.starts_at for s in changed],
        )
    if batch.events:
        await conn.copy_records_to_table(
            "outbox",
            columns=("event_id", "show_id", "show_version", "events", "payload", "partition"),
            records=_outbox_rows(batch, partition),
        )
        await conn.execute("SELECT pg_notify('outbox', '')")


async def _write_entries(conn: asyncpg.Connection, batch: Batch, partition: int) -> None:
    """Keep the batch's new fair-start entries (a copy stored before stays once), and end the drawn shows'."""
    if batch.new_entries:
        await conn.executemany(
            """INSERT INTO fair_start_entries (show_id, booking_id, customer_id, issued_at, command, partition)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
            [
                (e.show_id, e.booking_id, e.customer_id, e.issued_at, encode_command(e), partition)
                for e in batch.new_entries
            ],
        )
    if batch.drawn_shows:
        await conn.execute("DELETE FROM fair_start_entries WHERE show_id = ANY($1::text[])", batch.drawn_shows)
        await conn.execute(
            "UPDATE shows SET fair_start_drawn = true WHERE show_id = ANY($1::text[])", batch.drawn_shows
        )


async def _write_waitlist(conn: asyncpg.Connection, batch: Batch, partition: int) -> None:
    """The waiting places the batch changed: gone ones deleted, the ones still waiting written as they are."""
    if not batch.waitlist_changed:
        return
    changed = sorted(batch.waitlist_changed)
    await conn.execute(
        """DELETE FROM waitlist w USING unnest($1::text[], $2::text[]) AS r(show_id, customer_id)
           WHERE w.show_id = r.show_id AND w.customer_id = r.customer_id""",
        [show_id for show_id, _ in changed],
        [customer for _, customer in changed],
    )
    waiting = [
        (show_id, e.customer_id, e.seq, e.quantity, e.section, e.email, e.phone, e.joined_at, partition)
        for show_id, customer in changed
        if (e := batch.shows[show_id].waitlist.get(customer)) is not None
    ]
    if waiting:
        await conn.copy_records_to_table(
            "waitlist",
            columns=(
                "show_id",
                "customer_id",
                "seq",
                "quantity",
                "section",
                "email",
                "phone",
                "joined_at",
                "partition",
            ),
            records=waiting,
        )


def _outbox_rows(batch: Batch, partition: int) -> list[tuple]:
    """One row per show: its events of the batch in order, newline-separated JSON (migration 0008)."""
    by_show: dict[str, list] = {}
    for event in batch.events:
        by_show.setdefault(event.show_id, []).append(event)
    return [
        (
            events[0].event_id,
            show_id,
            events[0].show_version,
            len(events),
            b"\n".join([encode_event(e) for e in events]),
            partition,
        )
        for show_id, events in by_show.items()
    ]


async def _write_seats(conn: asyncpg.Connection, batch: Batch) -> None:
    del_show, del_seat, del_owner = [], [], []
    upd_show, upd_seat, upd_owner, upd_new_owner, upd_state = [], [], [], [], []
    ins_show, ins_seat, ins_owner, ins_state = [], [], [], []
    for show in batch.shows.values():
        for sid, before, after in show.seat_map.changes():
            if after is None:
                assert before is not None
                del_show.append(show.show_id)
                del_seat.append(sid)
                del_owner.append(before[0])
            elif before is None:
                ins_show.append(show.show_id)
                ins_seat.append(sid)
                ins_owner.append(after[0])
                ins_state.append(after[1])
            else:
                upd_show.append(show.show_id)
                upd_seat.append(sid)
                upd_owner.append(before[0])
                upd_new_owner.append(after[0])
                upd_state.append(after[1])
    # Every delete and update names the owner it expects: if the table disagrees, nothing commits.
    if del_seat:
        deleted = await conn.fetchval(
            """WITH d AS (DELETE FROM seats s
                          USING unnest($1::text[], $2::text[], $3::text[]) AS r(show_id, seat_id, owner)
                          WHERE s.show_id = r.show_id AND s.seat_id = r.seat_id AND s.booking_id = r.owner
                          RETURNING 1)
               SELECT count(*) FROM d""",
            del_show,
            del_seat,
            del_owner,
        )
        if deleted != len(del_seat):
            raise IntegrityViolation(f"released {deleted} of {len(del_seat)} seats")
    if upd_seat:
        updated = await conn.fetchval(
            """WITH u AS (UPDATE seats s SET booking_id = r.new_owner, state = r.state
                          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                               AS r(show_id, seat_id, owner, new_owner, state)
                          WHERE s.show_id = r.show_id AND s.seat_id = r.seat_id AND s.booking_id = r.owner
                          RETURNING 1)
               SELECT count(*) FROM u""",
            upd_show,
            upd_seat,
            upd_owner,
            upd_new_owner,
            upd_state,
        )
        if updated != len(upd_seat):
            raise IntegrityViolation(f"updated {updated} of {len(upd_seat)} seats")
    if ins_seat:
        # New rows only: the primary key refuses a seat that already has a live booking.
        await conn.copy_records_to_table(
            "seats",
            columns=("show_id", "seat_id", "booking_id", "state"),
            records=list(zip(ins_show, ins_seat, ins_owner, ins_state, strict=True)),
        )


_CHECKIN_COLUMNS = ("show_id", "ticket_id", "booking_id", "seat", "gate", "checked_in_at", "command_id", "scanner_id")
_BOOKING_COLUMNS = (
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
    "partition",
)


def _booking_tuple(b: BookingState) -> tuple:
    # A new booking has no refusal yet (only a later confirm or cancel can be refused).
    return (
        b.booking_id,
        b.request_id,
        b.show_id,
        b.customer_id,
        b.email,
        b.phone,
        b.status,
        b.requested_seats,
        b.requested_quantity,
        b.seats,
        b.reason,
        b.expires_at,
        b.payment_reference,
        b.created_at,
        b.updated_at,
    )


def _booking_record(b: BookingState) -> dict:
    return {
        "booking_id": b.booking_id,
        "request_id": b.request_id,
        "show_id": b.show_id,
        "customer_id": b.customer_id,
        "email": b.email,
        "phone": b.phone,
        "status": b.status,
        "requested_seats": b.requested_seats,
        "requested_quantity": b.requested_quantity,
        "seats": b.seats,
        "reason": b.reason,
        "expires_at": _iso(b.expires_at),
        "payment_reference": b.payment_reference,
        "created_at": _iso(b.created_at),
        "updated_at": _iso(b.updated_at),
        "refused_action": b.refused.action if b.refused else None,
        "refused_reason": b.refused.reason if b.refused else None,
        "refused_at": _iso(b.refused.at) if b.refused else None,
        "extensions": b.extensions,
        "payment": msgspec.to_builtins(b.payment) if b.payment is not None else None,
    }
