"""The booking's admission script (intake/admission.py) on the real Redis: the write limit and the
Idempotency-Key claim in one call, the limit first."""

from __future__ import annotations

import secrets

from intake.admission import RedisAdmission, claim_key
from intake.rate_limit import RedisRateLimiter, rate_key


async def test_the_limit_then_the_claim_in_one_call(redis):
    admission = RedisAdmission(redis, per_second=0.1, burst=2)  # no refill while the test runs
    customer = f"adm-{secrets.token_hex(3)}"
    first = await admission.admit(customer, "c1", "f1")
    assert first.wait_s == 0 and first.stored is None  # new: claimed now
    again = await admission.admit(customer, "c1", "f2")
    assert again.wait_s == 0 and again.stored == "f1"  # the fingerprint it was claimed with
    over = await admission.admit(customer, "c2", "f3")
    assert over.wait_s > 0 and over.stored is None
    assert not await redis.exists(claim_key(customer, "c2"))  # refused: nothing claimed
    assert 0 < await redis.ttl(claim_key(customer, "c1")) <= 24 * 3600


async def test_it_shares_the_limit_of_the_other_writes(redis):
    """The admission and the router's limiter (confirm, cancel) count in one bucket per customer."""
    admission, limiter = RedisAdmission(redis, 0.1, 3), RedisRateLimiter(redis, 0.1, 3)
    customer = f"adm-{secrets.token_hex(3)}"
    assert await limiter.acquire(customer) == 0
    assert (await admission.admit(customer, "a", "f")).wait_s == 0
    assert await limiter.acquire(customer) == 0
    assert (await admission.admit(customer, "b", "f")).wait_s > 0
    assert await redis.exists(rate_key(customer))


async def test_off_claims_without_limit(redis):
    admission = RedisAdmission(redis, per_second=0, burst=1)
    customer = f"adm-{secrets.token_hex(3)}"
    results = [await admission.admit(customer, f"k{i}", "f") for i in range(50)]
    assert all(r.wait_s == 0 and r.stored is None for r in results)
    assert not await redis.exists(rate_key(customer))
