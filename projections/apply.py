"""Applying events to the read models: one Lua script call per show per batch, atomic and idempotent on
show_version.

A duplicate (version <= applied) is skipped; a gap (version > applied + 1) is refused, recorded on the show
hash as `gap` and reported, never papered over (`boxoffice replay projections` repairs it). Each event
touches only the seats it names, so its cost does not grow with the size of the show. A show's events of a
batch travel as one JSON array, so the client's per-command cost is paid once per show, not per event.
"""
from __future__ import annotations

from typing import Any

import orjson
import redis.asyncio as aioredis

from projections.keys import Keys
from schemas import events as ev

APPLIED, DUPLICATE, GAP = 1, 0, -1

# KEYS: show, held, booked, index, then one booking key per event (a placeholder for ShowCreated)
# ARGV[1]: JSON array of [type, show_version, seats_available, show_doc, booking_doc, index_member, seats]
APPLY_EVENTS = """
local events = cjson.decode(ARGV[1])
local results = {}
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
    else
      if v > 0 then
        local seats = e[7]
        if kind == 'BookingPending' then
          for _, seat in ipairs(seats) do redis.call('SADD', KEYS[2], seat) end
        elseif kind == 'BookingConfirmed' then
          for _, seat in ipairs(seats) do redis.call('SREM', KEYS[2], seat); redis.call('SADD', KEYS[3], seat) end
        elseif kind == 'BookingExpired' or kind == 'BookingCancelled' then
          for _, seat in ipairs(seats) do redis.call('SREM', KEYS[2], seat); redis.call('SREM', KEYS[3], seat) end
        end
        redis.call('HSET', KEYS[1], 'version', v, 'available', available)
      end
      local booking = KEYS[4 + i]
      local bv = tonumber(redis.call('HGET', booking, 'v') or '-2')
      if v > bv then redis.call('HSET', booking, 'doc', e[5], 'v', v) end
    end
    if v > 0 then cur = v end
    results[i] = 1
  end
end
return results
"""


def show_doc(event: dict[str, Any]) -> dict[str, Any]:
    return {k: event[k] for k in ("show_id", "title", "venue", "starts_at", "hold_seconds", "sections",
                                  "seats_total")}


def booking_doc(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "booking_id": event["booking_id"], "show_id": event["show_id"], "customer_id": event["customer_id"],
        "status": event["status"], "seats": event["seats"], "reason": event["reason"],
        "expires_at": event["expires_at"], "created_at": event["created_at"],
        "updated_at": event.get("updated_at") or event["occurred_at"],
    }


def index_member(starts_at: str, show_id: str) -> str:
    return f"{starts_at}|{show_id}"


class EventApplier:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(APPLY_EVENTS)

    async def apply(self, events: list[dict[str, Any]], keys: Keys) -> list[int]:
        """Apply events (in order within each show) with one round trip; returns APPLIED / DUPLICATE / GAP
        for each event, in the order given."""
        by_show: dict[str, list[int]] = {}
        for i, event in enumerate(events):
            by_show.setdefault(event["show_id"], []).append(i)
        async with self._redis.pipeline(transaction=False) as pipe:
            for show_id, indexes in by_show.items():
                items, booking_keys = [], []
                for i in indexes:
                    event = events[i]
                    if event["type"] == ev.SHOW_CREATED:
                        items.append((ev.SHOW_CREATED, event["show_version"], event["seats_available"],
                                      orjson.dumps(show_doc(event)).decode(), "",
                                      index_member(event["starts_at"], show_id), []))
                        booking_keys.append(keys.booking("-"))
                    else:
                        items.append((event["type"], event["show_version"], event["seats_available"] or 0, "",
                                      orjson.dumps(booking_doc(event)).decode(), "", event["seats"]))
                        booking_keys.append(keys.booking(event["booking_id"]))
                await self._script(
                    keys=[keys.show(show_id), keys.held(show_id), keys.booked(show_id), keys.show_index(),
                          *booking_keys],
                    args=[orjson.dumps(items)], client=pipe)
            replies = await pipe.execute()
        results = [APPLIED] * len(events)
        for indexes, reply in zip(by_show.values(), replies, strict=True):
            for i, result in zip(indexes, reply, strict=True):
                results[i] = int(result)
        return results
