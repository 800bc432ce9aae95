"""What the intake's handlers share: its settings and its adapters (Kafka, Redis, PostgreSQL), built by the
app's lifespan, or handed in by a test (fakes for the transport adapters only)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from cachetools import LRUCache

from intake.tokens import TokenVerifier
from runtime.settings import Settings
from schemas.api import BookingView, ShowView
from schemas.commands import Command
from schemas.layout import Layout

CHECK_TIMEOUT_S = 2.0


class Bus(Protocol):
    async def send(self, command: Command, trace_id: str | None = None) -> Any: ...  # (partition, offset)
    async def ready(self) -> bool: ...


class Reads(Protocol):
    async def show(self, show_id: str) -> ShowView | None: ...
    async def lookup_show(self, show_id: str) -> Any: ...
    async def seat_map_json(self, show_id: str) -> bytes | None: ...
    async def list_shows(self, limit: int, cursor: str | None) -> tuple[list[ShowView], str | None]: ...
    async def booking(self, booking_id: str) -> BookingView | None: ...
    async def record_received(self, booking: BookingView, partition: int, offset: int) -> None: ...
    async def record_show_accepted(self, show: ShowView) -> None: ...
    async def ping(self) -> bool: ...


class Streams(Protocol):
    def events(self, show_id: str, after: int | None) -> AsyncIterator[bytes]: ...


class History(Protocol):
    async def for_customer(
        self, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[BookingView], str | None]: ...


class Idempotency(Protocol):
    async def claim(self, request_id: str, fingerprint: str) -> str | None: ...


class Limiter(Protocol):
    async def acquire(self, customer: str) -> float: ...
    def retry_after(self, wait_s: float) -> str: ...


@dataclass
class IntakeState:
    settings: Settings
    tokens: TokenVerifier
    limiter: Limiter
    bus: Bus
    reads: Reads
    history: History
    idempotency: Idempotency
    streams: Streams
    _layouts: LRUCache[str, Layout] = field(default_factory=lambda: LRUCache(maxsize=10_000))

    async def layout_of(self, show_id: str) -> Layout | None:
        """The show's layout, or None while the show does not exist. A show is never deleted and its layout
        never changes, so once seen it is kept in the process: no read-model round trip per booking."""
        layout = self._layouts.get(show_id)
        if layout is None:
            show = await self.reads.show(show_id)
            if show is None:
                return None
            layout = self._layouts[show_id] = Layout(show.sections)
        return layout

    async def readiness(self) -> dict[str, bool]:
        async def run(probe) -> bool:
            try:
                return bool(await asyncio.wait_for(probe(), CHECK_TIMEOUT_S))
            except Exception:
                return False

        kafka, redis = await asyncio.gather(run(self.bus.ready), run(self.reads.ping))
        return {"kafka": kafka, "redis": redis}
