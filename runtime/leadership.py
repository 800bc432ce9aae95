"""Run work as the single active instance among several, using a PostgreSQL session advisory lock.

Standbys retry the lock; if the leader's connection dies, its lock is released with it and a standby takes
over. `lead(conn)` runs while this instance holds the lock and returns when stopping.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from runtime.lifecycle import Lifecycle
from runtime.retry import Retry, Stopped

log = structlog.get_logger()


async def run_as_leader(
    name: str,
    lock_key: int,
    connect: Callable[[], Awaitable[asyncpg.Connection]],
    lead: Callable[[asyncpg.Connection], Awaitable[None]],
    lifecycle: Lifecycle,
    retry_s: float = 1.0,
) -> None:
    """Terms of leadership until stopping: connect, take the lock (or wait `retry_s` as a standby), lead. A
    lost connection (PostgreSQL or Kafka going away) ends the term and gives up the lead (the lock goes with
    the connection); the next term is retried by the one retry primitive. A defect is raised: the process
    exits and says why."""
    retry = Retry(name, lifecycle, cap=max(retry_s, 1.0))

    async def term() -> bool:
        conn = await connect()
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key):
                return False
            log.info(f"{name} active")
            await lead(conn)
            return True
        finally:
            with contextlib.suppress(Exception):
                await conn.close(timeout=5)

    while not lifecycle.stopping.is_set():
        try:
            led = await retry.run(term)
        except Stopped:
            break
        if not led:
            await lifecycle.sleep(retry_s)
    log.info(f"{name} stopped")
