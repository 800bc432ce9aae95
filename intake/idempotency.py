"""Idempotency-Key bookkeeping shared by every intake instance (Redis): which body a request id was first
accepted with, for 24 hours, so a reused key with a different body is answered 422."""

from __future__ import annotations

import redis.asyncio as aioredis

TTL_S = 24 * 3600


def _key(request_id: str) -> str:
    # Not a read model: owned by the intake, never rebuilt, so outside any generation.
    return f"bo:idem:{request_id}"


class IdempotencyStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def claim(self, request_id: str, fingerprint: str) -> str | None:
        """None when this request id is new (now claimed for `fingerprint`), else the fingerprint it has."""
        if await self._redis.set(_key(request_id), fingerprint, nx=True, ex=TTL_S):
            return None
        stored = await self._redis.get(_key(request_id))
        return stored.decode() if stored is not None else fingerprint  # expired just now: the same
