"""Shared setup of the pure-decision tests (booking_processor/decide.py): a show created in a batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from booking_processor.decide import Batch
from schemas.commands import CreateShow
from schemas.layout import Section

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def create_show(batch: Batch, seats: int = 4, sections: list[Section] | None = None, **rules: Any) -> None:
    """Show "s" (one row of `seats` in section A unless `sections` is given, starting in 30 days), created at
    T0 with the given rules (sale window, limits, waiting list …)."""
    batch.decide(
        CreateShow(
            command_id="c0",
            show_id="s",
            issued_at=T0,
            title="t",
            venue="v",
            starts_at=T0 + timedelta(days=30),
            hold_seconds=120,
            sections=sections or [Section("A", 1, seats, 100)],
            **rules,
        )
    )
