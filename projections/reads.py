"""Reading the read models (used by the intake). Every read is one round trip."""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec
import redis.asyncio as aioredis
from cachetools import LRUCache

from projections.apply import ShowDoc
from projections.keys import ACTIVE_NAMESPACE_KEY, DECIDED_KEY, DECIDED_RATE_KEY, Keys, active_namespace
from runtime.autopipeline import AutoPipeline
from schemas.api import AdminShowView, BookingView, CheckinView, SeatMapView, SectionSales, ShowView, WaitlistView
from schemas.events import RECEIVED, WAITING
from schemas.validation import format_time

# The RECEIVED document is written by the intake when the broker acked a request; v = -1 so that any
# decided event (v >= 0) replaces it, and it never replaces a decided one. With it: where the command
# landed (partition, offset), for its place in line.
WRITE_RECEIVED = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'doc', ARGV[1], 'v', -1, 'partition', ARGV[2], 'offset', ARGV[3])
  return 1
end
return 0
"""

# Likewise the show document an admin's accepted creation will have (version 0, before ShowCreated): the
# show reads as soon as its creation is accepted; ShowCreated overwrites it, ShowRejected removes it (and,
# applied first, keeps this write from bringing it back).
WRITE_SHOW_ACCEPTED = """
if redis.call('HEXISTS', KEYS[1], 'version') == 0 and redis.call('HEXISTS', KEYS[1], 'rejected') == 0 then
  redis.call('HSET', KEYS[1], 'doc', ARGV[1], 'available', ARGV[2], 'version', 0)
  return 1
end
return 0
"""

# A join the intake accepted reads RECEIVED until it is decided: written when the customer has no place
# (never had one, or left, was refused or offered before), never over a WAITING one, and only if no event of
# the customer's place was applied since the intake looked before sending (ARGV[2], the `v` it saw, "" for
# none): the join's own decision may be applied first. `v` is kept, so the decision (a later version) wins.
WRITE_WAITLIST_RECEIVED = """
if (redis.call('HGET', KEYS[1], 'v') or '') ~= ARGV[2] then return 0 end
local doc = redis.call('HGET', KEYS[1], 'doc')
if doc then
  local status = cjson.decode(doc).status
  if status == 'WAITING' or status == 'RECEIVED' then return 0 end
  redis.call('HSET', KEYS[1], 'doc', ARGV[1])
else
  redis.call('HSET', KEYS[1], 'doc', ARGV[1], 'v', -1)
end
return 1
"""

_show_doc = msgspec.json.Decoder(ShowDoc)
_booking_doc = msgspec.json.Decoder(BookingView)
_checkin_doc = msgspec.json.Decoder(CheckinView)
_waitlist_doc = msgspec.json.Decoder(WaitlistView)
_encoder = msgspec.json.Encoder()


def _show(doc: bytes, available: bytes, held: int = 0, first_hold: list | None = None) -> ShowView:
    return _show_doc.decode(doc).view(int(available), held, _hold_end(first_hold))


def _hold_end(first_hold: list | None) -> datetime | None:
    """When the first hold ends, from ZRANGE … 0 0 WITHSCORES of the show's holds (epoch ms)."""
    if not first_hold:
        return None
    return datetime.fromtimestamp(first_hold[0][1] / 1000, UTC)


class ShowLookup(msgspec.Struct, frozen=True):
    """A show, or why there is none: `rejected` names the reason its creation was refused. `version` is the
    show's version (which fixes the whole show: its tag)."""

    show: ShowView | None
    rejected: str | None = None
    version: int = 0


class ReadModels:
    """Reads from the live generation of the read models (looked up at most once a second)."""

    NAMESPACE_TTL_S = 1.0

    def __init__(
        self, redis: aioredis.Redis, namespace: str | None = None, pipeline: AutoPipeline | None = None
    ) -> None:
        self.redis = redis
        self.pipeline = pipeline or AutoPipeline(redis)  # the booking POST's RECEIVED record, with its turn's others
        self.keys = Keys(namespace) if namespace else Keys()
        self._pinned = namespace is not None  # a fixed generation (benchmarks), never the live pointer
        self._keys_checked = 0.0
        # show -> ((generation, version), rendered JSON of the seat map)
        self._rendered: LRUCache[str, tuple[tuple[str, int], bytes]] = LRUCache(maxsize=1000)
        self._write_received = redis.register_script(WRITE_RECEIVED)
        self._write_waitlist_received = redis.register_script(WRITE_WAITLIST_RECEIVED)
        self._write_show_accepted = redis.register_script(WRITE_SHOW_ACCEPTED)

    async def live_keys(self) -> Keys:
        return await self._current_keys()

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def _current_keys(self) -> Keys:
        now = time.monotonic()
        if not self._pinned and now - self._keys_checked > self.NAMESPACE_TTL_S:
            namespace = active_namespace(await self.redis.get(ACTIVE_NAMESPACE_KEY))
            if namespace != self.keys.namespace:
                self.keys = Keys(namespace)
            self._keys_checked = now
        return self.keys

    async def show(self, show_id: str) -> ShowView | None:
        return (await self.lookup_show(show_id)).show

    async def lookup_show(self, show_id: str) -> ShowLookup:
        keys = await self._current_keys()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hmget(keys.show(show_id), "doc", "available", "rejected", "version")
            pipe.scard(keys.held(show_id))
            pipe.zrange(keys.holds(show_id), 0, 0, withscores=True)
            (doc, available, rejected, version), held, first_hold = await pipe.execute()
        if doc is None:
            return ShowLookup(None, rejected.decode() if rejected else None)
        return ShowLookup(_show(doc, available, held, first_hold), version=int(version or 0))

    async def seat_map(self, show_id: str) -> SeatMapView | None:
        keys = await self._current_keys()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hmget(keys.show(show_id), "doc", "available", "version")
            pipe.smembers(keys.held(show_id))
            pipe.smembers(keys.booked(show_id))
            (doc, available, version), held, booked = await pipe.execute()
        if doc is None:
            return None
        return SeatMapView(
            show_id=show_id,
            version=int(version),
            seats_total=_show_doc.decode(doc).seats_total,
            seats_available=int(available),
            held=sorted(s.decode() for s in held),
            booked=sorted(s.decode() for s in booked),
        )

    async def seat_map_json(self, show_id: str) -> bytes | None:
        """The seat map as JSON bytes (see seat_map_versioned)."""
        found = await self.seat_map_versioned(show_id)
        return None if found is None else found[1]

    async def seat_map_versioned(self, show_id: str) -> tuple[int, bytes] | None:
        """The seat map's version and the map as JSON bytes. A version fixes the whole map, so a rendered map
        is kept per show and served again while the version has not moved: readers of a hot show cost one
        small round trip."""
        keys = await self._current_keys()
        version = await self.redis.hget(keys.show(show_id), "version")
        if version is None:
            return None
        cached = self._rendered.get(show_id)
        if cached is not None and cached[0] == (keys.namespace, int(version)):
            return int(version), cached[1]
        seat_map = await self.seat_map(show_id)
        if seat_map is None:
            return None
        body = _encoder.encode(seat_map)
        self._rendered[show_id] = ((keys.namespace, seat_map.version), body)
        return seat_map.version, body

    def forget_rendered(self) -> None:
        """Drop the rendered maps (the next read of each show renders again)."""
        self._rendered.clear()

    async def list_shows(
        self, limit: int, cursor: str | None, starting_after: datetime | None = None
    ) -> tuple[list[ShowView], str | None]:
        """A page of shows by start time; with `starting_after`, only the shows that start later (the index
        is ordered by the start's text, `format_time`, so the bound is a place in it)."""
        after = None if cursor is None else _decode_cursor(cursor)
        if starting_after is not None:
            now = format_time(starting_after) or ""
            after = now if after is None else max(after, now)
        start = "-" if after is None else "(" + after
        keys = await self._current_keys()
        members = await self.redis.zrangebylex(keys.show_index(), start, "+", start=0, num=limit + 1)
        more = len(members) > limit
        members = members[:limit]
        shows = []
        if members:
            async with self.redis.pipeline(transaction=False) as pipe:
                for member in members:
                    show_id = member.decode().rsplit("|", 1)[1]
                    pipe.hmget(keys.show(show_id), "doc", "available")
                    pipe.scard(keys.held(show_id))
                    pipe.zrange(keys.holds(show_id), 0, 0, withscores=True)
                replies = await pipe.execute()
                for (doc, available), held, first_hold in zip(replies[::3], replies[1::3], replies[2::3], strict=True):
                    if doc is not None:
                        shows.append(_show(doc, available, held, first_hold))
        next_cursor = _encode_cursor(members[-1].decode()) if more else None
        return shows, next_cursor

    async def sales(self, shows: Sequence[ShowView]) -> list[AdminShowView]:
        """Each show's seats per section (available, held, sold) and the sold seats' revenue, from its seat
        sets (one round trip for the page; a show's sets are as of one applied version)."""
        keys = await self._current_keys()
        async with self.redis.pipeline(transaction=False) as pipe:
            for show in shows:
                pipe.smembers(keys.held(show.show_id))
                pipe.smembers(keys.booked(show.show_id))
                pipe.hmget(keys.show(show.show_id), ["checked_in", *(f"checked_in:{s.name}" for s in show.sections)])
            replies = await pipe.execute()
        out = []
        for show, held, booked, counts in zip(shows, replies[::3], replies[1::3], replies[2::3], strict=True):
            held_by, sold_by = _by_section(held), _by_section(booked)
            sections = []
            for section, door in zip(show.sections, counts[1:], strict=True):
                total = section.rows * section.seats_per_row
                h, b = held_by.get(section.name, 0), sold_by.get(section.name, 0)
                sections.append(
                    SectionSales(section.name, total, total - h - b, h, b, b * section.price_cents, int(door or 0))
                )
            sold, revenue = sum(s.sold for s in sections), sum(s.revenue for s in sections)
            out.append(AdminShowView(show, sections, sold, revenue, int(counts[0] or 0)))
        return out

    async def booking(self, booking_id: str) -> BookingView | None:
        """The booking; while RECEIVED, with its place in line: the commands of its partition still ahead
        of it (its offset minus the partition's next undecided one), and the wait the recent rate suggests."""
        keys = await self._current_keys()
        doc, partition, offset = await self.redis.hmget(keys.booking(booking_id), "doc", "partition", "offset")
        if doc is None:
            return None
        booking = _booking_doc.decode(doc)
        if booking.status != RECEIVED or partition is None:
            return booking
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(DECIDED_KEY, partition)
            pipe.hget(DECIDED_RATE_KEY, partition)
            decided, rate = await pipe.execute()
        return _placed(booking, offset, decided, rate)

    async def checkin(self, checkin_id: str) -> CheckinView | None:
        """The answer to a scan, once the projections applied it."""
        keys = await self._current_keys()
        doc = await self.redis.hget(keys.checkin(checkin_id), "doc")
        return None if doc is None else _checkin_doc.decode(doc)

    async def bookings(self, booking_ids: Sequence[str]) -> list[BookingView | None]:
        """Several bookings, as `booking` reads each, in two round trips whatever their number (the bookings,
        then where their partitions stand when some are RECEIVED)."""
        if not booking_ids:
            return []
        keys = await self._current_keys()
        async with self.redis.pipeline(transaction=False) as pipe:
            for booking_id in booking_ids:
                pipe.hmget(keys.booking(booking_id), "doc", "partition", "offset")
            rows = await pipe.execute()
        found: list[tuple[BookingView, bytes | None, bytes | None] | None] = [
            None if doc is None else (_booking_doc.decode(doc), partition, offset) for doc, partition, offset in rows
        ]
        partitions = sorted(
            {row[1] for row in found if row is not None and row[0].status == RECEIVED and row[1] is not None}
        )
        decided: dict[bytes, bytes | None] = {}
        rates: dict[bytes, bytes | None] = {}
        if partitions:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hmget(DECIDED_KEY, partitions)
                pipe.hmget(DECIDED_RATE_KEY, partitions)
                offsets, per_s = await pipe.execute()
            decided, rates = dict(zip(partitions, offsets, strict=True)), dict(zip(partitions, per_s, strict=True))
        out: list[BookingView | None] = []
        for row in found:
            if row is None:
                out.append(None)
                continue
            booking, partition, offset = row
            if booking.status != RECEIVED or partition is None:
                out.append(booking)
            else:
                out.append(_placed(booking, offset, decided.get(partition), rates.get(partition)))
        return out

    async def record_show_accepted(self, show: ShowView) -> None:
        keys = await self._current_keys()
        doc = ShowDoc.of(show)
        await self._write_show_accepted(
            keys=[keys.show(show.show_id)], args=[_encoder.encode(doc), show.seats_available]
        )

    async def waitlist_entry(self, show_id: str, customer_id: str) -> WaitlistView | None:
        """A customer's place on a show's waiting list, with their position (1 = next) while waiting."""
        keys = await self._current_keys()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(keys.waitlist_entry(show_id, customer_id), "doc")
            pipe.zrank(keys.waitlist(show_id), customer_id)
            pipe.zcard(keys.waitlist(show_id))
            doc, rank, waiting = await pipe.execute()
        if doc is None:
            return None
        entry = _waitlist_doc.decode(doc)
        if entry.status != WAITING or rank is None:
            return entry
        return msgspec.structs.replace(entry, position=rank + 1, waiting=waiting)

    async def waitlist_mark(self, show_id: str, customer_id: str) -> str:
        """The version of the customer's place as applied now ("" for none), for record_waitlist_received."""
        keys = await self._current_keys()
        v = await self.redis.hget(keys.waitlist_entry(show_id, customer_id), "v")
        return v.decode() if v is not None else ""

    async def record_waitlist_received(self, entry: WaitlistView, mark: str) -> None:
        keys = await self._current_keys()
        await self._write_waitlist_received(
            keys=[keys.waitlist_entry(entry.show_id, entry.customer_id)], args=[_encoder.encode(entry), mark]
        )

    async def record_received(self, booking: BookingView, partition: int, offset: int) -> None:
        keys = await self._current_keys()
        await self.pipeline.script(
            self._write_received, [keys.booking(booking.booking_id)], [_encoder.encode(booking), partition, offset]
        )


def _by_section(seats: set[bytes]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for seat in seats:
        name = seat.split(b"-", 1)[0].decode()
        counts[name] = counts.get(name, 0) + 1
    return counts


def _placed(booking: BookingView, offset: bytes, decided: bytes | None, rate: bytes | None) -> BookingView:
    """A RECEIVED booking with its place in line: the commands of its partition still ahead of it (its offset
    minus the partition's next undecided one), and the wait the recent rate suggests."""
    ahead = max(0, int(offset) - int(decided or 0))
    per_s = float(rate or 0)
    return msgspec.structs.replace(
        booking, queue_position=ahead, estimated_wait_s=round(ahead / per_s, 1) if per_s > 0 else None
    )


def _encode_cursor(member: str) -> str:
    return base64.urlsafe_b64encode(member.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        member = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError("invalid cursor") from None
    if "|" not in member:
        raise ValueError("invalid cursor")
    return member
