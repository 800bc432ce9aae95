"""Test assertions over ops/invariants.py (the same checks the benchmarks run)."""

from __future__ import annotations

import asyncpg

from ops.invariants import overbooking_violations, projection_differences
from tests.support.waiting import eventually


async def assert_no_overbooking(pg: asyncpg.Pool, show_id: str) -> None:
    assert await overbooking_violations(pg, show_id) == []


async def assert_projection_matches(pg: asyncpg.Pool, redis, show_ids: list[str], timeout: float = 30) -> None:
    """Wait until Redis caught up with PostgreSQL for these shows, then require equality."""
    await eventually(
        lambda: projection_differences(pg, redis, show_ids),
        lambda diffs: diffs == [],
        timeout=timeout,
        interval=0.25,
        what="Redis read models equal to PostgreSQL",
    )
