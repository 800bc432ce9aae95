"""What the intake's handlers share: its settings and its adapters (Kafka, Redis, PostgreSQL), built by the
app's lifespan on the runner every worker uses, or handed in by a test (fakes for the transport adapters
only)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cachetools import LRUCache

from intake.admission import Admitted
from intake.booking_waits import Waited
from intake.conditional import EntityTags
from intake.seat_stream import StreamSlots
from intake.tickets import TicketKeys
from intake.tokens import Signer, TokenVerifier
from payments.provider import PaymentProvider
from runtime.lifecycle import Lifecycle
from runtime.service import Service
from runtime.settings import Settings
from schemas.api import AdminShowView, BookingView, CheckinView, ShowView, WaitlistView
from schemas.commands import Command
from schemas.layout import Layout

# /readyz says whether Kafka and Redis answer (API.md), under these names, from these checks of the runner.
READINESS = {"kafka": "kafka_producer", "redis": "redis"}


class Bus(Protocol):
    async def send(self, command: Command, trace_id: str | None = None) -> Any: ...  # (partition, offset)
    async def ready(self) -> bool: ...  # the readiness of a bus handed in (the runner checks its own producer)


class Reads(Protocol):
    async def show(self, show_id: str) -> ShowView | None: ...
    async def lookup_show(self, show_id: str) -> Any: ...
    async def seat_map_versioned(self, show_id: str) -> tuple[int, bytes] | None: ...
    async def list_shows(
        self, limit: int, cursor: str | None, starting_after: datetime | None = None
    ) -> tuple[list[ShowView], str | None]: ...
    async def booking(self, booking_id: str) -> BookingView | None: ...
    async def record_received(self, booking: BookingView, partition: int, offset: int) -> None: ...
    async def record_show_accepted(self, show: ShowView) -> None: ...
    async def waitlist_entry(self, show_id: str, customer_id: str) -> WaitlistView | None: ...
    async def sales(self, shows: Sequence[ShowView]) -> list[AdminShowView]: ...
    async def waitlist_mark(self, show_id: str, customer_id: str) -> str: ...
    async def record_waitlist_received(self, entry: WaitlistView, mark: str) -> None: ...
    async def checkin(self, checkin_id: str) -> CheckinView | None: ...
    async def ping(self) -> bool: ...


class Streams(Protocol):
    def events(self, show_id: str, after: int | None) -> AsyncIterator[bytes]: ...


class Waits(Protocol):
    """Requests waiting for a booking to change (intake/booking_waits.py)."""

    async def wait(
        self,
        booking: BookingView,
        tags: EntityTags,
        seconds: float,
        gone: Callable[[], Awaitable[bool]] | None = None,
    ) -> Waited: ...


class History(Protocol):
    async def for_customer(
        self, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[BookingView], str | None]: ...


class Idempotency(Protocol):
    async def claim(self, request_id: str, fingerprint: str) -> str | None: ...


class Admission(Protocol):
    """The write limit and the Idempotency-Key claim in one round trip (intake/admission.py)."""

    async def admit(self, customer: str, claim_id: str, fingerprint: str) -> Admitted: ...


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
    waits: Waits
    admission: Admission | None = None  # None: the limiter, then the claim store (two calls)
    service: Service | None = None  # the runner the adapters were built on (None: handed in by a test)
    dev_tokens: Signer | None = None  # the development sign-in's signer (only while dev sign-in is on)
    tickets: TicketKeys | None = None  # the ticket keys (None: this intake signs and checks no ticket)
    payments: PaymentProvider | None = None  # the payment provider's adapter (None: no checkout here)
    stream_slots: StreamSlots = field(default_factory=StreamSlots)  # open seat-map streams, against the cap
    _layouts: LRUCache[str, Layout] = field(default_factory=lambda: LRUCache(maxsize=10_000))

    def __post_init__(self) -> None:
        if self.service is None:  # the runner's readiness over the adapters handed in
            self.service = Service("intake", self.settings, Lifecycle(), contextlib.AsyncExitStack())
            self.service.check(READINESS["kafka"], lambda: self.bus.ready())
            self.service.check(READINESS["redis"], lambda: self.reads.ping())

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
        """A check the runner does not have yet (the producer is still starting) says not ready."""
        assert self.service is not None
        checks = await self.service.readiness()
        return {name: checks.get(check, False) for name, check in READINESS.items()}
