"""Applying one event to the read models: one Lua script, atomic and idempotent on show_version.

A duplicate (version <= applied) is skipped; a gap (version > applied + 1) is refused, recorded on the show
hash as `gap` and reported, never papered over (`boxoffice replay projections` repairs it). Each event
touches only the seats it names, so its cost does not grow with the size of the show.
"""
from __future__ import annotations

from typing import Any

import orjson
import redis.asyncio as aioredis

from projections.keys import Keys
from schemas import events as ev

APPLIED, DUPLICATE, GAP = 1, 0, -1

# KEYS: show, held, booked, booking (or ""), index
# ARGV: type, show_version, seats_available, show_doc, booking_doc, index_member, seats...
APPLY_EVENT = """
local v = tonumber(ARGV[2])
if v > 0 then
  local cur = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
  if v <= cur then return 0 end
  if v ~= cur + 1 then
    redis.call('HSET', KEYS[1], 'gap', ARGV[2])
    return -1
  end
end
local kind = ARGV[1]
if kind == 'ShowCreated' then
  redis.call('HSET', KEYS[1], 'doc', ARGV[4], 'version', v, 'available', ARGV[3])
  redis.call('ZADD', KEYS[5], 0, ARGV[6])
  return 1
end
if v > 0 then
  if kind == 'BookingPending' then
    for i = 7, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
  elseif kind == 'BookingConfirmed' then
    for i = 7, #ARGV do redis.call('SREM', KEYS[2], ARGV[i]); redis.call('SADD', KEYS[3], ARGV[i]) end
  elseif kind == 'BookingExpired' or kind == 'BookingCancelled' then
    for i = 7, #ARGV do redis.call('SREM', KEYS[2], ARGV[i]); redis.call('SREM', KEYS[3], ARGV[i]) end
  end
  redis.call('HSET', KEYS[1], 'version', v, 'available', ARGV[3])
end
local bv = tonumber(redis.call('HGET', KEYS[4], 'v') or '-2')
if v > bv then
  redis.call('HSET', KEYS[4], 'doc', ARGV[5], 'v', v)
end
return 1
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
        self._script = redis.register_script(APPLY_EVENT)

    async def apply(self, events: list[dict[str, Any]], keys: Keys) -> list[int]:
        """Apply events in order with one round trip; returns APPLIED / DUPLICATE / GAP for each."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                await self._queue(pipe, event, keys)
            return await pipe.execute()

    async def _queue(self, pipe: aioredis.client.Pipeline, event: dict[str, Any], keys: Keys) -> None:
        show_id, kind = event["show_id"], event["type"]
        if kind == ev.SHOW_CREATED:
            args = [kind, event["show_version"], event["seats_available"], orjson.dumps(show_doc(event)), "",
                    index_member(event["starts_at"], show_id)]
            booking_key = keys.booking("-")
        else:
            args = [kind, event["show_version"], event["seats_available"] or 0, "",
                    orjson.dumps(booking_doc(event)), "", *event["seats"]]
            booking_key = keys.booking(event["booking_id"])
        await self._script(
            keys=[keys.show(show_id), keys.held(show_id), keys.booked(show_id), booking_key, keys.show_index()],
            args=args, client=pipe,
        )
