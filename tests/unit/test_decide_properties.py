"""Properties of the pure decision core over random command sequences (hypothesis), decided in random
batches the way the processor commits them:
- no seat is ever in two live bookings, and the seat map owns exactly the live bookings' seats;
- availability equals what the rows say (total minus seats with a row), and the counter never drifts;
- the rows the transaction writes (seat_map.changes) always start from what the table holds;
- best available keeps a booking in one row whenever some row had room for all of it;
- no customer ever has more live seats of the show than its limit, the show's running count of them equals
  what the bookings say, and a request is refused `customer_limit` exactly when it would go beyond;
- a hold is extended at most `max_hold_extensions` times, each time by the hold time or up to the show's
  start, never past it;
- show versions grow by exactly one per event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_processor.decide import LIVE, Batch
from schemas.commands import (
    CancelBooking,
    ConfirmBooking,
    CreateShow,
    ExpireBooking,
    ExtendBooking,
    RequestBooking,
)
from schemas.layout import Layout, Section

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)
LAYOUT = Layout((Section("A", 3, 4, 100), Section("B", 2, 5, 50)))
SEATS = [
    f"{s.name}-{r}-{n}" for s in LAYOUT.sections for r in range(1, s.rows + 1) for n in range(1, s.seats_per_row + 1)
]
CUSTOMERS = 6
LIMIT = 6  # live seats per customer: small enough to be reached often
EXTENSIONS = 2
STARTS_AT = T0 + timedelta(seconds=400)  # within reach of the clock's advances: some extensions are capped

request_seats = st.builds(
    lambda c, seats: ("seats", c, sorted(set(seats))),
    st.integers(0, CUSTOMERS - 1),
    st.lists(st.sampled_from([*SEATS, "A-9-9"]), min_size=1, max_size=4),
)
request_best = st.builds(lambda c, q: ("best", c, q), st.integers(0, CUSTOMERS - 1), st.integers(1, 10))
on_booking = st.builds(
    lambda kind, b: (kind, b), st.sampled_from(["confirm", "cancel", "expire", "extend"]), st.integers(0, 40)
)
advance = st.builds(lambda s: ("advance", s), st.integers(1, 60))
commit = st.just(("commit",))
steps = st.lists(st.one_of(request_seats, request_best, on_booking, advance, commit), max_size=80)


def _row_of(seat: str) -> str:
    return seat.rsplit("-", 1)[0]


class Harness:
    """Decides commands in batches over shared state, and keeps a model of the seats table."""

    def __init__(self) -> None:
        self.now = T0
        self.shows: dict = {}
        self.bookings: dict = {}
        self.table: dict[str, tuple[str, str]] = {}  # seat -> (booking, state): what PostgreSQL holds
        self.events: list = []
        self.owner_of_booking: dict[str, str] = {}
        self.n = 0
        self.batch = self._new_batch()
        self.batch.decide(
            CreateShow(
                command_id="c0",
                show_id="s",
                issued_at=T0,
                title="t",
                venue="v",
                starts_at=STARTS_AT,
                hold_seconds=60,
                sections=list(LAYOUT.sections),
                max_seats_per_customer=LIMIT,
                max_hold_extensions=EXTENSIONS,
            )
        )

    def _new_batch(self) -> Batch:
        return Batch(shows=self.shows, bookings=self.bookings, now=self.now)

    def commit(self) -> None:
        seat_map = self.shows["s"].seat_map
        for seat, before, after in seat_map.changes():
            assert self.table.get(seat) == before, f"{seat}: the table holds {self.table.get(seat)}, not {before}"
            if after is None:
                del self.table[seat]
            else:
                self.table[seat] = after
        seat_map.committed()
        self.events += self.batch.events
        self.batch = self._new_batch()

    def request(self, customer: int, seats: list[str] | None, quantity: int | None) -> None:
        self.n += 1
        booking_id = f"b{self.n}"
        self.owner_of_booking[booking_id] = f"c{customer}"
        seat_map = self.shows["s"].seat_map
        row_had_room = quantity is not None and any(free >= quantity for free in seat_map.row_free)
        live_before = self._live_seats().get(f"c{customer}", 0)
        self.batch.decide(
            RequestBooking(
                command_id=f"r{self.n}",
                show_id="s",
                issued_at=self.now,
                booking_id=booking_id,
                request_id=f"q{self.n}",
                customer_id=f"c{customer}",
                seats=seats,
                quantity=quantity,
            )
        )
        booking = self.bookings[booking_id]
        if booking.status == "PENDING" and row_had_room:
            assert len({_row_of(s) for s in booking.seats}) == 1, f"split although a row had room: {booking.seats}"
        wanted = quantity if quantity is not None else len(seats or [])
        if self.now >= STARTS_AT:
            assert (booking.status, booking.reason) == ("REJECTED", "sale_closed")
        elif booking.reason != "invalid_seat":
            over = live_before + wanted > LIMIT
            assert (booking.reason == "customer_limit") == over, (live_before, wanted, booking.reason)
            if booking.status == "REJECTED" and quantity is not None and not over:
                assert seat_map.available < quantity  # best available refuses only when too few seats are free

    def _live_seats(self) -> dict[str, int]:
        live: dict[str, int] = {}
        for b in self.bookings.values():
            if b.status in LIVE:
                live[b.customer_id] = live.get(b.customer_id, 0) + len(b.seats)
        return live

    def on_booking(self, kind: str, index: int) -> None:
        booking_id = f"b{index}"
        customer = self.owner_of_booking.get(booking_id, "nobody")
        common = {"command_id": f"{kind}{index}", "show_id": "s", "issued_at": self.now, "booking_id": booking_id}
        booking = self.bookings.get(booking_id)
        before = None if booking is None else (booking.status, booking.expires_at, booking.extensions)
        if kind == "extend":
            self.batch.decide(ExtendBooking(**common, customer_id=customer))
            after = None if booking is None else (booking.status, booking.expires_at, booking.extensions)
            if before is None or after is None or before[0] != "PENDING":
                assert after == before  # nothing to extend: unchanged but for the refusal
            elif after[0] == "EXPIRED":
                assert self.now >= before[1]  # asked after the hold ended
            elif after[2] == before[2] + 1:
                assert before[2] < EXTENSIONS and after[1] == min(before[1] + timedelta(seconds=60), STARTS_AT)
                assert after[1] > before[1]
            else:
                assert after == before and booking is not None and booking.refused is not None
                assert booking.refused.reason in {"extension_limit", "sale_closed"}
        elif kind == "confirm":
            self.batch.decide(ConfirmBooking(**common, customer_id=customer, payment_reference="p"))
        elif kind == "cancel":
            self.batch.decide(CancelBooking(**common, customer_id=customer))
        else:
            self.batch.decide(ExpireBooking(**common))

    def check(self) -> None:
        show = self.shows["s"]
        seat_map = show.seat_map
        live = [b for b in self.bookings.values() if b.status in LIVE]
        claimed = [s for b in live for s in b.seats]
        assert len(claimed) == len(set(claimed)), "a seat is in two live bookings"
        expected = {s: (b.booking_id, "HELD" if b.status == "PENDING" else "BOOKED") for b in live for s in b.seats}
        assert seat_map.owner == expected
        assert seat_map.available == LAYOUT.seats_total - len(seat_map.owner) == show.seats_available
        assert sum(seat_map.row_free) == seat_map.available
        live = self._live_seats()
        assert show.live_seats == live
        assert all(n <= LIMIT for n in live.values()), live
        assert all(b.extensions <= EXTENSIONS for b in self.bookings.values())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_random_command_sequences_keep_every_invariant(plan):
    h = Harness()
    for step in plan:
        kind = step[0]
        if kind == "seats":
            h.request(step[1], step[2], None)
        elif kind == "best":
            h.request(step[1], None, step[2])
        elif kind == "advance":
            h.commit()
            h.now += timedelta(seconds=step[1])
            h.batch = h._new_batch()
        elif kind == "commit":
            h.commit()
        else:
            h.on_booking(kind, step[1])
        h.check()
    h.commit()
    assert h.table == h.shows["s"].seat_map.owner  # the rows written equal the state decided
    versions = [e.show_version for e in h.events]
    assert versions == list(range(1, len(versions) + 1))
    assert len({e.event_id for e in h.events}) == len(h.events)
