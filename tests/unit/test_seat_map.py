from __future__ import annotations

from booking_processor.seat_map import SeatMap
from schemas.layout import Focus, Layout, Section


def _map(rows=3, per_row=6, owner=None) -> SeatMap:
    return SeatMap(Layout((Section("A", rows, per_row, 1),)), owner or {})


def test_best_available_takes_the_centre_of_the_front_row_first():
    seat_map = _map(rows=3, per_row=10)
    assert seat_map.best_available(2) == ["A-1-5", "A-1-6"]
    assert seat_map.best_available(3) == ["A-1-4", "A-1-5", "A-1-6"]  # centre 5 vs 5.5: the lower seats win ties


def test_best_available_prefers_adjacent_in_one_row_nearest_the_best_point():
    seat_map = _map(owner={"A-1-3": ("x", "HELD")})
    # Row 1 has 4-6 (centre 5, 1.5 from the best point 3.5); row 2's best block of three strands a seat.
    assert seat_map.best_available(3) == ["A-1-4", "A-1-5", "A-1-6"]
    # Two: A-1-1..2 is 2 away; A-1-4..5 is 1 away but strands A-1-6 (+2); A-2-3..4 is 1 away: taken.
    assert seat_map.best_available(2) == ["A-2-3", "A-2-4"]


def test_a_block_does_not_strand_a_single_seat_when_one_nearly_as_good_does_not():
    # Row 1: seats 1..7 free, 8 taken. The best point is 4 (centre of 7 seats... of the 7-seat row: 4.0).
    seat_map = SeatMap(Layout((Section("A", 1, 7, 1),)), {"A-1-7": ("x", "HELD")})
    # Free run 1..6. Three seats: 3..5 (centre 4) strands 6 and leaves 2 free; 2..4 strands 1; 4..6 (centre 5,
    # distance 1) strands nothing; 1..3 (centre 2, distance 2) neither: 4..6 wins.
    assert seat_map.best_available(3) == ["A-1-4", "A-1-5", "A-1-6"]


def test_a_stranded_seat_is_accepted_when_nothing_else_is_near():
    # One row of 5, q = 4: every block strands a seat; the nearer one is taken.
    seat_map = SeatMap(Layout((Section("A", 1, 5, 1),)), {})
    assert seat_map.best_available(4) == ["A-1-1", "A-1-2", "A-1-3", "A-1-4"]


def test_a_focus_moves_the_best_point():
    layout = Layout((Section("A", 5, 10, 1, Focus(row=3, seat=9.5)),))
    assert SeatMap(layout, {}).best_available(2) == ["A-3-9", "A-3-10"]


def test_sections_are_taken_in_the_order_asked():
    layout = Layout((Section("A", 1, 4, 100), Section("B", 2, 4, 50)))
    seat_map = SeatMap(layout, {})
    # Centre of four seats: 2..3 would strand both ends; 1..2 leaves two free beside it.
    assert seat_map.best_available(2) == ["A-1-1", "A-1-2"]
    assert seat_map.best_available(2, layout.sections_for("B", None)) == ["B-1-1", "B-1-2"]
    assert seat_map.best_available(2, layout.sections_for(None, 50)) == ["B-1-1", "B-1-2"]
    seat_map.claim(["A-1-1", "A-1-3"], "x")
    # No block of two left in A: the next section has one, and adjacent beats the layout's order.
    assert seat_map.best_available(2) == ["B-1-1", "B-1-2"]
    assert seat_map.best_available(9, layout.sections_for("B", None)) is None  # B has 8 seats


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
