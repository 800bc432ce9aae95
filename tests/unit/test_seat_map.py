from __future__ import annotations

from booking_processor.seat_map import SeatMap
from schemas.layout import Layout, Section


def _map(rows=3, per_row=6, owner=None) -> SeatMap:
    return SeatMap(Layout((Section("A", rows, per_row, 1),)), owner or {})


def test_best_available_prefers_adjacent_in_one_row():
    seat_map = _map(owner={"A-1-3": ("x", "HELD")})
    assert seat_map.best_available(3) == ["A-1-4", "A-1-5", "A-1-6"]
    assert seat_map.best_available(2) == ["A-1-1", "A-1-2"]


def test_best_available_same_row_when_not_adjacent():
    owner = {f"A-1-{i}": ("x", "HELD") for i in (2, 4)} | {
        f"A-{r}-{s}": ("x", "HELD") for r in (2, 3) for s in range(1, 7)
    }
    seat_map = _map(owner=owner)
    assert seat_map.best_available(3) == ["A-1-1", "A-1-3", "A-1-5"]


def test_best_available_spills_across_rows_only_when_no_row_has_room():
    owner = {f"A-{r}-{s}": ("x", "HELD") for r in (1, 2, 3) for s in range(1, 6)}
    seat_map = _map(owner=owner)
    assert seat_map.available == 3
    assert seat_map.best_available(2) == ["A-1-6", "A-2-6"]
    assert seat_map.best_available(4) is None


def test_claim_release_and_changes():
    seat_map = _map()
    seat_map.claim(["A-1-1", "A-1-2"], "b1")
    seat_map.book(["A-1-1", "A-1-2"], "b1")
    seat_map.release(["A-1-2"], "b1")
    seat_map.release(["A-1-1"], "other")  # not the owner: ignored
    assert sorted(seat_map.changes()) == [("A-1-1", None, ("b1", "BOOKED"))]
    assert seat_map.available == 17
    seat_map.committed()
    assert seat_map.changes() == []
    seat_map.release(["A-1-1"], "b1")
    seat_map.claim(["A-1-1"], "b2")
    assert seat_map.changes() == [("A-1-1", ("b1", "BOOKED"), ("b2", "HELD"))]


def test_release_makes_earlier_rows_available_again():
    seat_map = _map(rows=2, per_row=2)
    seat_map.claim(["A-1-1", "A-1-2"], "b1")
    assert seat_map.best_available(2) == ["A-2-1", "A-2-2"]
    seat_map.release(["A-1-1", "A-1-2"], "b1")
    assert seat_map.best_available(2) == ["A-1-1", "A-1-2"]
