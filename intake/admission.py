"""A booking's admission in one Redis round trip: the customer's write limit (GCRA, intake/rate_limit.py) and
its Idempotency-Key claim (intake/idempotency.py) in one script.

The booking POST is the hot path of an on-sale; the limit and the claim used to be two round trips before the
command was published. Both keys carry the customer in a hash tag (`{customer}`), so the script touches one
hash slot and runs on Redis Cluster as is. The limit is checked first: a customer over it claims nothing (as
when the two were apart). The RECEIVED record stays a separate write *after* the command is published: it says
"published" (a retry finding it answers 200 without publishing again), so it cannot be written before.

The order of refusals stays the document's (the write limit before the headers, the body and the path): the
router leaves the limit of an operation declared `limit_with_claim` to this call, and any refusal raised
before it (a bad body, an unknown show, a seat outside the layout) checks the limit first (intake/router.py).
"""

from __future__ import annotations

from typing import NamedTuple

import redis.asyncio as aioredis

from intake.idempotency import TTL_S
from intake.rate_limit import GCRA_STEP, rate_key
from runtime.autopipeline import AutoPipeline

# KEYS[1]: the customer's limit; KEYS[2]: the claim. ARGV: interval_us (0: no limit), burst, fingerprint,
# the claim's TTL. Returns {over_us, stored fingerprint or false}: over_us > 0 is refused and claims nothing.
ADMIT = (
    """
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
if interval > 0 then
  local now
"""
    + GCRA_STEP
    + """
  if over > 0 then
    return {over, false}
  end
end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'EX', ARGV[4]) then
  return {0, false}
end
return {0, redis.call('GET', KEYS[2]) or ARGV[3]}
"""
)


def claim_key(customer: str, claim_id: str) -> str:
    """The claim's key: the customer's hash tag (the slot of its limit), the claim id (a digest of customer
    and key). Not a read model: owned by the intake, never rebuilt, outside any generation."""
    return f"bo:idem:{{{customer}}}:{claim_id}"


class Admitted(NamedTuple):
    wait_s: float  # > 0: over the write limit (retry after it); nothing claimed
    stored: str | None  # the fingerprint this key was first claimed with; None: claimed now


class RedisAdmission:
    def __init__(
        self, redis: aioredis.Redis, per_second: float, burst: int, pipeline: AutoPipeline | None = None
    ) -> None:
        self._interval_us = int(1_000_000 / per_second) if per_second > 0 else 0
        self._burst = burst
        self._script = redis.register_script(ADMIT)
        self._pipeline = pipeline or AutoPipeline(redis)  # with the other calls of its turn (runtime/autopipeline.py)

    async def admit(self, customer: str, claim_id: str, fingerprint: str) -> Admitted:
        over_us, stored = await self._pipeline.script(
            self._script,
            [rate_key(customer), claim_key(customer, claim_id)],
            [self._interval_us, self._burst, fingerprint, TTL_S],
        )
        return Admitted(int(over_us) / 1_000_000, stored.decode() if stored else None)
