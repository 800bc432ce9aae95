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
from runtime.transient import is_transient

log = structlog.get_logger()


async def run_as_leader(
    name: str,
    lock_key: int,
    connect: Callable[[], Awaitable[asyncpg.Connection]],
    lead: Callable[[asyncpg.Connection], Awaitable[None]],
    lifecycle: Lifecycle,
    retry_s: float = 1.0,
) -> None:
    while not lifecycle.stopping.is_set():
        conn: asyncpg.Connection | None = None
        try:
            conn = await connect()
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key):
                await lifecycle.sleep(retry_s)
                continue
            log.info(f"{name} active")
            await lead(conn)
        except Exception as exc:
            if not is_transient(exc):
                raise  # a defect: the process exits and says why
            # PostgreSQL or Kafka went away: give up the lead (the lock goes with the connection), retry.
            log.warning(f"{name} lost a connection, retrying", error=repr(exc))
            await lifecycle.sleep(retry_s)
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=5)
    log.info(f"{name} stopped")
