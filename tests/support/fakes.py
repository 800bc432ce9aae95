"""In-memory stand-ins for the intake's transport adapters (Kafka, Redis, PostgreSQL), for the in-process
API tests. Everything else (routing, auth, validation, the error model, the OpenAPI document) is real."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from intake.booking_waits import Waited
from intake.command_bus import Placement
from intake.conditional import EntityTags, booking_tag
from intake.credentials import dev_signer, token_verifier
from intake.errors import unavailable
from intake.rate_limit import RedisRateLimiter
from intake.state import IntakeState
from intake.tickets import TicketKeys
from payments.provider import Checkout
from payments.stripe import StripeAdapter
from projections.reads import ShowLookup
from runtime.settings import Settings
from schemas.api import AdminShowView, BookingView, CheckinView, SeatMapView, SectionSales, ShowView, WaitlistView
from schemas.commands import Command, checked_encoding, decode_command


@dataclass
class FakeBus:
    sent: list[Command] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    down: bool = False

    async def send(self, command: Command, trace_id: str | None = None) -> Placement:
        raw = checked_encoding(command)
        if self.down:
            raise unavailable("the command log (Kafka) is not reachable yet")
        assert decode_command(raw, command.show_id.encode()) == command
        self.sent.append(command)
        self.raw.append(raw)
        return Placement(0, len(self.sent) - 1)

    async def ready(self) -> bool:
        return not self.down


@dataclass
class FakeReads:
    shows: dict[str, ShowView] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)
    bookings: dict[str, BookingView] = field(default_factory=dict)
    checkins: dict[str, CheckinView] = field(default_factory=dict)

    async def show(self, show_id: str) -> ShowView | None:
        return self.shows.get(show_id)

    async def checkin(self, checkin_id: str) -> CheckinView | None:
        return self.checkins.get(checkin_id)

    versions: dict[str, int] = field(default_factory=dict)  # show id -> its version (1 unless set)

    async def lookup_show(self, show_id: str) -> ShowLookup:
        show = self.shows.get(show_id)
        return ShowLookup(show, self.rejected.get(show_id), self.versions.get(show_id, 1) if show else 0)

    async def seat_map_versioned(self, show_id: str) -> tuple[int, bytes] | None:
        show = self.shows.get(show_id)
        if show is None:
            return None
        version = self.versions.get(show_id, 1)
        return version, msgspec.json.encode(
            SeatMapView(show_id, version, show.seats_total, show.seats_available, [], [])
        )

    async def list_shows(
        self, limit: int, cursor: str | None, starting_after: datetime | None = None
    ) -> tuple[list[ShowView], str | None]:
        ordered = sorted(
            (s for s in self.shows.values() if starting_after is None or s.starts_at > starting_after),
            key=lambda s: (s.starts_at, s.show_id),
        )
        start = 0 if cursor is None else int(cursor.removeprefix("c")) if cursor.startswith("c") else -1
        if start < 0:
            raise ValueError("invalid cursor")
        page = ordered[start : start + limit]
        return page, (f"c{start + limit}" if start + limit < len(ordered) else None)

    async def booking(self, booking_id: str) -> BookingView | None:
        return self.bookings.get(booking_id)

    async def record_show_accepted(self, show: ShowView) -> None:
        self.shows.setdefault(show.show_id, show)

    async def record_received(self, booking: BookingView, partition: int, offset: int) -> None:
        self.bookings.setdefault(booking.booking_id, booking)

    waitlist: dict[tuple[str, str], WaitlistView] = field(default_factory=dict)  # (show, customer) -> place

    async def sales(self, shows) -> list[AdminShowView]:
        """Every seat available (the fake has no seat sets)."""
        return [
            AdminShowView(
                show,
                [
                    SectionSales(s.name, s.rows * s.seats_per_row, s.rows * s.seats_per_row, 0, 0, 0)
                    for s in show.sections
                ],
                0,
                0,
            )
            for show in shows
        ]

    async def waitlist_entry(self, show_id: str, customer_id: str) -> WaitlistView | None:
        return self.waitlist.get((show_id, customer_id))

    async def waitlist_mark(self, show_id: str, customer_id: str) -> str:
        return ""

    async def record_waitlist_received(self, entry: WaitlistView, mark: str) -> None:
        key = (entry.show_id, entry.customer_id)
        if key not in self.waitlist or self.waitlist[key].status not in ("WAITING", "RECEIVED"):
            self.waitlist[key] = entry

    async def ping(self) -> bool:
        return True


@dataclass
class FakeHistory:
    bookings: list[BookingView] = field(default_factory=list)

    async def for_customer(
        self, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[BookingView], str | None]:
        mine = [b for b in self.bookings if b.customer_id == customer_id]
        return mine[:limit], None


@dataclass
class FakeIdempotency:
    claims: dict[str, str] = field(default_factory=dict)

    async def claim(self, request_id: str, fingerprint: str) -> str | None:
        if request_id in self.claims:
            return self.claims[request_id]
        self.claims[request_id] = fingerprint
        return None


@dataclass
class FakeRateLimiter:
    """`burst` writes per key (a customer, or `ip:…` a client), then one per 1/per_second seconds (no clock:
    nothing refills)."""

    per_second: float
    burst: int
    used: dict[str, int] = field(default_factory=dict)

    async def acquire(self, customer: str) -> float:
        if self.per_second <= 0:
            return 0.0
        self.used[customer] = self.used.get(customer, 0) + 1
        return 0.0 if self.used[customer] <= self.burst else 1 / self.per_second

    retry_after = staticmethod(RedisRateLimiter.retry_after)


@dataclass
class FakeStreams:
    """A stream that says `retry:` and one change of version `after + 1`, then ends."""

    async def events(self, show_id: str, after: int | None):
        yield b'retry: 1000\nevent: heartbeat\ndata: {"version":%d}\n\n' % (after or 0)
        version = (after or 0) + 1
        yield b'id: %d\nevent: change\ndata: {"version":%d}\n\n' % (version, version)


@dataclass
class FakeWaits:
    """Waits on FakeReads: a change is whatever a test puts in `reads.bookings` while it waits (checked every
    10 ms). `full`: every wait is refused (as a process at its limit)."""

    reads: FakeReads
    full: bool = False
    waited: list[float] = field(default_factory=list)

    async def wait(
        self,
        booking: BookingView,
        tags: EntityTags,
        seconds: float,
        gone: Callable[[], Awaitable[bool]] | None = None,
    ) -> Waited:
        if self.full:
            return Waited(False, None)
        self.waited.append(seconds)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            now = self.reads.bookings.get(booking.booking_id)
            if now is not None and not tags.matches(booking_tag(now)):
                return Waited(True, now)
            await asyncio.sleep(0.01)
        return Waited(True, None)


FAKE_WEBHOOK_SECRET = "whsec_test"


class FakePayments(StripeAdapter):
    """The Stripe adapter's webhook reading as it is, with its provider calls in memory."""

    def __init__(self) -> None:
        super().__init__("dev", "http://127.0.0.1:9", "sk_test", FAKE_WEBHOOK_SECRET)
        self.checkouts: list[dict] = []
        self.voided: list[str] = []
        self.refunds: list[tuple[str, int, str]] = []

    async def create_checkout(self, **kw) -> Checkout:  # type: ignore[override]
        self.checkouts.append(kw)
        return Checkout(f"cs_test_{len(self.checkouts)}", f"http://127.0.0.1:9/pay/cs_test_{len(self.checkouts)}")

    async def void(self, checkout_id: str, idempotency_key: str) -> bool:
        self.voided.append(checkout_id)
        return True

    async def refund(self, payment_id: str, amount: int, idempotency_key: str) -> str:
        self.refunds.append((payment_id, amount, idempotency_key))
        return f"re_test_{len(self.refunds)}"


def fake_state(settings: Settings, rate_per_s: float = 0.0, burst: int = 1) -> IntakeState:
    reads = FakeReads()
    return IntakeState(
        settings=settings,
        tokens=token_verifier(settings),
        limiter=FakeRateLimiter(rate_per_s, burst),
        bus=FakeBus(),
        reads=reads,
        history=FakeHistory(),
        idempotency=FakeIdempotency(),
        streams=FakeStreams(),
        waits=FakeWaits(reads),
        dev_tokens=dev_signer(settings) if settings.dev_signin else None,
        tickets=TicketKeys.load(settings.ticket_signing_key) if settings.ticket_signing_key else None,
        payments=FakePayments(),
    )
