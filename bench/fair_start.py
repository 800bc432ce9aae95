"""What a fair start costs the processor: N best-available requests (1 to 4 seats) on one show decided first
come, first served, against the same N requests accepted within a fair-start window (each kept as an entry)
and then decided by the draw, in one process on the same machine (the pure decisions of
booking_processor/decide.py, no I/O: the share the draw adds to a batch). Run: `python -m bench.fair_start`."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from booking_processor.decide import Batch
from schemas.commands import CreateShow, DrawFairStart, RequestBooking
from schemas.layout import Section

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OPENS = T0 + timedelta(hours=1)


def _batch(window: int) -> Batch:
    batch = Batch(shows={}, bookings={}, now=T0)
    batch.decide(
        CreateShow(
            command_id="c",
            show_id="s",
            issued_at=T0,
            title="bench",
            venue="bench",
            starts_at=T0 + timedelta(days=30),
            hold_seconds=120,
            sections=[Section(f"S{i}", 200, 100, 1000) for i in range(5)],  # 100,000 seats
            sale_opens_at=OPENS,
            fair_start_window_s=window,
            fair_start_seed="ab" * 16 if window else None,
        )
    )
    return batch


def _requests(n: int) -> list[RequestBooking]:
    return [
        RequestBooking(
            command_id=f"c{i}",
            show_id="s",
            issued_at=OPENS + timedelta(milliseconds=i % 5000),
            booking_id=f"b{i}",
            request_id=f"r{i}",
            customer_id=f"cust{i % (n // 2 or 1)}",  # half the customers send two requests
            quantity=1 + i % 4,
        )
        for i in range(n)
    ]


def _run(n: int, fair: bool) -> tuple[float, float, int]:
    """(seconds to take the requests in, seconds of the draw, bookings held)."""
    batch = _batch(10 if fair else 0)
    requests = _requests(n)
    started = time.perf_counter()
    for request in requests:
        batch.decide(request)
    taken = time.perf_counter()
    if fair:
        batch.decide(DrawFairStart(command_id="d", show_id="s", issued_at=OPENS + timedelta(seconds=10)))
    drawn = time.perf_counter()
    held = sum(1 for b in batch.bookings.values() if b.status == "PENDING")
    return taken - started, drawn - taken, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, nargs="+", default=[1_000, 10_000, 40_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'requests':>9} {'FCFS µs/req':>12} {'enter µs/req':>13} {'draw µs/req':>12} {'fair/FCFS':>10} {'held':>7}")
    for n in args.requests:
        fcfs = min(sum(_run(n, False)[:2]) for _ in range(args.repeat))
        best = min((_run(n, True) for _ in range(args.repeat)), key=lambda r: r[0] + r[1])
        enter, draw, held = best
        print(
            f"{n:>9} {fcfs / n * 1e6:>12.1f} {enter / n * 1e6:>13.1f} {draw / n * 1e6:>12.1f} "
            f"{(enter + draw) / fcfs:>9.2f}x {held:>7}"
        )


if __name__ == "__main__":
    main()
