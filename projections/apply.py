"""Applying events to the read models: one Lua script call per show per batch, atomic and idempotent on
show_version.

A duplicate (version <= applied) is skipped; a gap (version > applied + 1) is refused, recorded on the show
hash as `gap` and reported, never papered over (`boxoffice replay projections` repairs it). Each event
touches only the seats it names, so its cost does not grow with the size of the show. A show's events of a
batch travel as one JSON array, so the client's per-command cost is paid once per show, not per event.

The live consumer also publishes the applied changes of a show (version, the seats that changed state), one
JSON array per script call: appended to the show's bounded change log (a stream whose entry id is the last
version in it, for clients resuming after a version) and published on the show's channel (for clients
following it now). A replay building a new generation publishes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec
import redis.asyncio as aioredis

from projections.keys import Keys, changes_channel
from schemas import events as ev
from schemas.api import BookingView, CheckinView, SeatChange, ShowChange, ShowView, WaitlistView
from schemas.fields import DEFAULT_MAX_HOLD_EXTENSIONS, DEFAULT_MAX_SEATS_PER_CUSTOMER, DEFAULT_WAITLIST_OFFER_SECONDS
from schemas.layout import Section
from schemas.money import DEFAULT_CURRENCY
from schemas.validation import format_time

APPLIED, DUPLICATE, GAP = 1, 0, -1
CHANGE_LOG_LENGTH = 1000  # versions kept for clients resuming

# KEYS: show, held, booked, index, change log, waiting list, holds, then one document key per event: the booking's,
# the waiting customer's for a WaitlistChanged, the scan's answer for a TicketCheckedIn (a placeholder for show events)
# ARGV[1]: JSON array of ScriptEvent (below: one typed struct, encoded as an array, so e[1]..e[10] are its fields)
# ARGV[2]: "1" to append and publish the applied changes, ARGV[3]: the channel, ARGV[4]: change log length
# The show's version and availability are written once per call, and its applied changes travel as one JSON
# array: one change-log entry (id = the last version) and one message per call, not per event.
APPLY_EVENTS = """
local events = cjson.decode(ARGV[1])
local publish = ARGV[2] == '1'
local results = {}
local applied = {}
local available_now = nil
local cur = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
for i, e in ipairs(events) do
  local kind, v, available = e[1], e[2], e[3]
  if v > 0 and v <= cur then
    results[i] = 0
  elseif v > 0 and v ~= cur + 1 then
    redis.call('HSET', KEYS[1], 'gap', v)
    results[i] = -1
  else
    if kind == 'ShowCreated' then
      redis.call('HSET', KEYS[1], 'doc', e[4], 'version', v, 'available', available)
      redis.call('ZADD', KEYS[4], 0, e[6])
    elseif kind == 'ShowUpdated' then  -- the whole show as it now is; the listing follows a new start
      redis.call('HSET', KEYS[1], 'doc', e[4])
      if e[10] ~= e[6] then
        redis.call('ZREM', KEYS[4], e[10])
        redis.call('ZADD', KEYS[4], 0, e[6])
      end
      available_now = available
    elseif kind == 'ShowRejected' then
      if cur == 0 then  -- never created: drop what the intake wrote when it accepted the request
        redis.call('HDEL', KEYS[1], 'doc', 'available', 'version')
        redis.call('HSET', KEYS[1], 'rejected', e[4])
      end
    else
      if v > 0 then
        local seats = e[7]
        if kind == 'WaitlistChanged' then
          if e[9] >= 0 then redis.call('ZADD', KEYS[6], e[9], e[10]) else redis.call('ZREM', KEYS[6], e[10]) end
        elseif e[10] ~= '' then  -- a booking's hold begins, moves (score: its end) or ends (-1)
          if e[9] >= 0 then redis.call('ZADD', KEYS[7], e[9], e[10]) else redis.call('ZREM', KEYS[7], e[10]) end
        end
        if kind == 'BookingPending' then
          for _, seat in ipairs(seats) do redis.call('SADD', KEYS[2], seat) end
        elseif kind == 'BookingConfirmed' then
          for _, seat in ipairs(seats) do redis.call('SREM', KEYS[2], seat); redis.call('SADD', KEYS[3], seat) end
        elseif kind == 'BookingExpired' or kind == 'BookingCancelled' then
          for _, seat in ipairs(seats) do redis.call('SREM', KEYS[2], seat); redis.call('SREM', KEYS[3], seat) end
        elseif kind == 'TicketCheckedIn' and e[9] == 1 then  -- an admission: the show's and its section's door count
          redis.call('HINCRBY', KEYS[1], 'checked_in', 1)
          local section = seats[1] and string.match(seats[1], '^[^-]+')
          if section then redis.call('HINCRBY', KEYS[1], 'checked_in:' .. section, 1) end
        end
        available_now = available
      end
      local booking = KEYS[7 + i]
      local bv = tonumber(redis.call('HGET', booking, 'v') or '-2')
      if v > bv then redis.call('HSET', booking, 'doc', e[5], 'v', v) end
    end
    if v > 0 then
      cur = v
      applied[#applied + 1] = e[8]
    end
    results[i] = 1
  end
end
if available_now then redis.call('HSET', KEYS[1], 'version', cur, 'available', available_now) end
if publish and #applied > 0 then
  local changes = '[' .. table.concat(applied, ',') .. ']'
  -- keep about the last ARGV[4] versions, however many entries they took
  redis.call('XADD', KEYS[5], 'MINID', '~', math.max(0, cur - tonumber(ARGV[4])), cur .. '-1', 'changes', changes)
  redis.call('PUBLISH', ARGV[3], changes)
end
return results
"""

_SEAT_STATE = {
    ev.BookingPending: "held",
    ev.BookingConfirmed: "booked",
    ev.BookingExpired: "available",
    ev.BookingCancelled: "available",
}
_encoder = msgspec.json.Encoder()


class ScriptEvent(msgspec.Struct, array_like=True, frozen=True):
    """One event as APPLY_EVENTS reads it (`e[1]` … `e[10]` in the script, in this order)."""

    kind: str  # the event type
    show_version: int
    seats_available: int
    show_doc: str  # ShowCreated, ShowUpdated: the show's document; ShowRejected: the reason; else ""
    booking_doc: str  # booking events: the booking's view; else ""
    index_member: str  # ShowCreated, ShowUpdated: the listing index member; else ""
    seats: list[str]  # booking events: the seats whose state the event changes
    change: str  # the change published to the live seat map (ShowChange), "" for none
    # A sorted-set entry the event sets (score >= 0) or removes (-1): WaitlistChanged, the waiting customer
    # (score: the place's seq while WAITING); a booking event that starts, moves or ends a hold, the booking
    # (score: when the hold ends, epoch ms). "": none (a rejection, a refused action, a show event). For a
    # ShowUpdated, `member` is the listing index member it replaces.
    score: int = -1
    member: str = ""


class ShowDoc(msgspec.Struct, frozen=True):
    """The stored part of a show that never changes (availability and version live beside it)."""

    show_id: str
    title: str
    venue: str
    starts_at: datetime
    hold_seconds: int
    sections: list[Section]
    seats_total: int
    # Defaults: documents written before these rules existed.
    max_seats_per_customer: int = DEFAULT_MAX_SEATS_PER_CUSTOMER
    max_hold_extensions: int = DEFAULT_MAX_HOLD_EXTENSIONS
    currency: str = DEFAULT_CURRENCY
    sale_opens_at: datetime | None = None
    sale_closes_at: datetime | None = None
    fair_start_window_s: int = 0
    waitlist_offer_seconds: int = DEFAULT_WAITLIST_OFFER_SECONDS
    cancelled_at: datetime | None = None
    update_refused: str | None = None  # why the last change an admin asked for could not be made
    cancellable_until_hours: int | None = 0
    refund_percent: int = 100

    def view(self, seats_available: int, seats_held: int = 0, next_hold_ends_at: datetime | None = None) -> ShowView:
        return ShowView(
            show_id=self.show_id,
            title=self.title,
            venue=self.venue,
            starts_at=self.starts_at,
            hold_seconds=self.hold_seconds,
            sections=self.sections,
            seats_total=self.seats_total,
            seats_available=seats_available,
            max_seats_per_customer=self.max_seats_per_customer,
            max_hold_extensions=self.max_hold_extensions,
            currency=self.currency,
            sale_opens_at=self.sale_opens_at,
            sale_closes_at=self.sale_closes_at,
            fair_start_window_s=self.fair_start_window_s,
            waitlist_offer_seconds=self.waitlist_offer_seconds,
            cancelled_at=self.cancelled_at,
            update_refused=self.update_refused,
            cancellable_until_hours=self.cancellable_until_hours,
            refund_percent=self.refund_percent,
            seats_held=seats_held,
            next_hold_ends_at=next_hold_ends_at,
        )

    @classmethod
    def of(cls, show: ShowView | ev.ShowCreated | ev.ShowUpdated) -> ShowDoc:
        """The document of a show (a view, or the event that created or last changed it)."""
        return cls(
            show_id=show.show_id,
            title=show.title,
            venue=show.venue,
            starts_at=show.starts_at,
            hold_seconds=show.hold_seconds,
            sections=show.sections,
            seats_total=show.seats_total,
            max_seats_per_customer=show.max_seats_per_customer,
            max_hold_extensions=show.max_hold_extensions,
            currency=show.currency,
            sale_opens_at=show.sale_opens_at,
            sale_closes_at=show.sale_closes_at,
            fair_start_window_s=show.fair_start_window_s,
            waitlist_offer_seconds=show.waitlist_offer_seconds,
            cancelled_at=show.cancelled_at,
            update_refused=show.refused if isinstance(show, ev.ShowUpdated) else None,
            cancellable_until_hours=show.cancellable_until_hours,
            refund_percent=show.refund_percent,
        )


def waitlist_view(event: ev.WaitlistChanged) -> WaitlistView:
    return WaitlistView(
        show_id=event.show_id,
        customer_id=event.customer_id,
        status=event.status,
        quantity=event.quantity,
        updated_at=event.updated_at,
        section=event.section,
        reason=event.reason,
        booking_id=event.booking_id,
        joined_at=event.joined_at,
    )


def checkin_view(event: ev.TicketCheckedIn) -> CheckinView:
    return CheckinView(
        checkin_id=event.checkin_id,
        status="DECIDED",
        result=event.result,
        ticket_id=event.ticket_id or None,
        show_id=event.show_id,
        booking_id=event.booking_id or None,
        seat=event.seat or None,
        gate=event.gate or None,
        scanned_at=event.scanned_at,
        checked_in_at=event.checked_in_at,
        checked_in_gate=event.checked_in_gate,
        booking_status=event.booking_status,
        reason="not a seat of such a booking of this show" if event.result == ev.INVALID else None,
    )


def booking_view(event: ev.BookingEvent) -> BookingView:
    return BookingView(
        booking_id=event.booking_id,
        show_id=event.show_id,
        customer_id=event.customer_id,
        status=event.status,
        seats=event.seats,
        reason=event.reason,
        expires_at=event.expires_at,
        created_at=event.created_at,
        updated_at=event.updated_at,
        refused=event.refused,
        extensions=event.extensions,
        total=event.total,
        currency=event.currency,
        sale_opens_at=event.sale_opens_at,
        payment=event.payment,
    )


def index_member(starts_at: str, show_id: str) -> str:
    return f"{starts_at}|{show_id}"


def _item(event: ev.Event, keys: Keys) -> tuple[ScriptEvent, str]:
    """The script's view of an event, and the key of the document it updates (the booking's, the waiting
    customer's, or a placeholder)."""
    if isinstance(event, ev.ShowCreated | ev.ShowUpdated):
        change = ShowChange(event.show_id, event.show_version, event.seats_available, [])
        # A ShowUpdated names the index member it replaces (the start before it); ShowCreated has none.
        previous = event.previous_starts_at or event.starts_at if isinstance(event, ev.ShowUpdated) else None
        return (
            ScriptEvent(
                kind=event.type,
                show_version=event.show_version,
                seats_available=event.seats_available,
                show_doc=_encoder.encode(ShowDoc.of(event)).decode(),
                booking_doc="",
                index_member=index_member(format_time(event.starts_at) or "", event.show_id),
                seats=[],
                change=_encoder.encode(change).decode(),
                member=index_member(format_time(previous) or "", event.show_id) if previous else "",
            ),
            keys.booking("-"),
        )
    if isinstance(event, ev.ShowRejected):
        return ScriptEvent(event.type, 0, 0, event.reason, "", "", [], ""), keys.booking("-")
    if isinstance(event, ev.TicketCheckedIn):
        change = ShowChange(event.show_id, event.show_version, event.seats_available, [])
        return (
            ScriptEvent(
                kind=event.type,
                show_version=event.show_version,
                seats_available=event.seats_available,
                show_doc="",
                booking_doc=_encoder.encode(checkin_view(event)).decode(),
                index_member="",
                seats=[event.seat] if event.seat else [],  # its section's door count (A-1-2: A)
                change=_encoder.encode(change).decode() if event.show_version else "",
                score=1 if event.admits and event.show_version else -1,  # counted at the door, once per ticket
            ),
            keys.checkin(event.checkin_id),
        )
    if isinstance(event, ev.WaitlistChanged):
        change = ShowChange(event.show_id, event.show_version, event.seats_available, [])
        return (
            ScriptEvent(
                kind=event.type,
                show_version=event.show_version,
                seats_available=event.seats_available,
                show_doc="",
                booking_doc=_encoder.encode(waitlist_view(event)).decode(),
                index_member="",
                seats=[],
                change=_encoder.encode(change).decode(),
                score=event.seq if event.status == ev.WAITING else -1,
                member=event.customer_id,
            ),
            keys.waitlist_entry(event.show_id, event.customer_id),
        )
    available = event.seats_available or 0
    state = _SEAT_STATE.get(type(event))
    change = ShowChange(
        event.show_id, event.show_version, available, [SeatChange(s, state) for s in event.seats] if state else []
    )
    return (
        ScriptEvent(
            kind=event.type,
            show_version=event.show_version,
            seats_available=available,
            show_doc="",
            booking_doc=_encoder.encode(booking_view(event)).decode(),
            index_member="",
            seats=event.seats,
            change=_encoder.encode(change).decode(),
            score=_hold_end(event),
            member=event.booking_id if type(event) in _HOLDS else "",
        ),
        keys.booking(event.booking_id),
    )


# Booking events that start or move a hold (its end is the score) or end one; the others leave it as it is.
_HOLDS = {
    ev.BookingPending,
    ev.BookingHoldExtended,
    ev.BookingConfirmed,
    ev.BookingExpired,
    ev.BookingCancelled,
}


def _hold_end(event: ev.BookingEvent) -> int:
    if isinstance(event, ev.BookingPending | ev.BookingHoldExtended) and event.expires_at is not None:
        return int(event.expires_at.timestamp() * 1000)
    return -1


class EventApplier:
    def __init__(self, redis: aioredis.Redis, publish: bool = True) -> None:
        self._redis = redis
        self._publish = "1" if publish else "0"
        self._script = redis.register_script(APPLY_EVENTS)

    async def apply(self, events: Sequence[ev.Event], keys: Keys, positions: dict[int, int] | None = None) -> list[int]:
        """Apply events (in order within each show) with one round trip; returns APPLIED / DUPLICATE / GAP
        for each event, in the order given. `positions` (partition -> next offset of booking.events) is written
        after them in the same round trip: Redis replicates in order, so whatever position a replica holds,
        it holds every event before it (see ProjectionConsumer on a failover)."""
        by_show: dict[str, list[int]] = {}
        for i, event in enumerate(events):
            by_show.setdefault(event.show_id, []).append(i)
        async with self._redis.pipeline(transaction=False) as pipe:
            for show_id, indexes in by_show.items():
                items, doc_keys = [], []
                for i in indexes:
                    item, doc_key = _item(events[i], keys)
                    items.append(item)
                    doc_keys.append(doc_key)
                await self._script(
                    keys=[
                        keys.show(show_id),
                        keys.held(show_id),
                        keys.booked(show_id),
                        keys.show_index(),
                        keys.changes(show_id),
                        keys.waitlist(show_id),
                        keys.holds(show_id),
                        *doc_keys,
                    ],
                    args=[_encoder.encode(items), self._publish, changes_channel(show_id), CHANGE_LOG_LENGTH],
                    client=pipe,
                )
            if positions:
                pipe.hset(keys.positions(), mapping={str(p): o for p, o in positions.items()})
            replies = await pipe.execute()
        if positions:
            replies = replies[:-1]
        results = [APPLIED] * len(events)
        for indexes, reply in zip(by_show.values(), replies, strict=True):
            for i, result in zip(indexes, reply, strict=True):
                results[i] = int(result)
        return results
