"""Best available against a brute-force oracle on small halls (hypothesis):
- the seats are free, distinct, of the sections asked, as many as asked; None exactly when too few are free;
- they are adjacent in one row whenever a section asked has such a block (the first such section, in order);
- the block is the one closest to the section's best point by `placement_score`, ties to the lower row and seat:
  the search (rows nearest first, stopping early, remembering each row's best) finds what trying every
  placement finds;
- a block that strands a single free seat beside it is taken only when every block that strands none is at
  least ORPHAN_PENALTY farther from the best point;
- all of it still holds after any sequence of claims and releases (the remembered rows are never stale).
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from booking_processor.seat_map import ORPHAN_PENALTY, SeatMap, placement_score
from schemas.layout import Focus, Layout, Section


@st.composite
def sections(draw, name: str) -> Section:
    rows, per_row = draw(st.integers(1, 5)), draw(st.integers(1, 12) | st.integers(13, 30))
    focus = draw(
        st.none()
        | st.builds(
            Focus,
            row=st.integers(1, rows),
            seat=st.integers(10, 10 * per_row).map(lambda tenth: tenth / 10),
        )
    )
    return Section(name, rows, per_row, draw(st.sampled_from([100, 200])), focus)


@st.composite
def halls(draw) -> tuple[Layout, dict[str, tuple[str, str]]]:
    names = draw(st.lists(st.sampled_from("ABC"), min_size=1, max_size=3, unique=True))
    layout = Layout([draw(sections(n)) for n in names])
    density = draw(st.floats(0, 1))
    taken = {}
    for s in layout.sections:
        for r in range(1, s.rows + 1):
            for n in range(1, s.seats_per_row + 1):
                if draw(st.floats(0, 1)) < density:
                    taken[f"{s.name}-{r}-{n}"] = ("x", "HELD")
    return layout, taken


def _free_runs(seat_map: SeatMap, section: Section, row: int) -> list[tuple[int, int]]:
    runs, start = [], None
    for n in range(1, section.seats_per_row + 2):
        free = n <= section.seats_per_row and seat_map.is_free(f"{section.name}-{row}-{n}")
        if free and start is None:
            start = n
        elif not free and start is not None:
            runs.append((start, n - 1))
            start = None
    return runs


def _blocks(seat_map: SeatMap, section: Section, quantity: int):
    """Every placement of `quantity` adjacent free seats in the section: (score, row, start, stranded)."""
    for row in range(1, section.rows + 1):
        for run_start, run_end in _free_runs(seat_map, section, row):
            for start in range(run_start, run_end - quantity + 2):
                stranded = (start - run_start == 1) + (run_end - (start + quantity - 1) == 1)
                yield placement_score(section, row, start, quantity, run_start, run_end), row, start, stranded


def _distance(section: Section, row: int, start: int, quantity: int) -> float:
    best_row, best_seat = section.best_point
    return math.hypot(start + (quantity - 1) / 2 - best_seat, row - best_row)


def _check(seat_map: SeatMap, layout: Layout, quantity: int, asked: list[Section] | None) -> None:
    candidates = list(layout.sections) if asked is None else asked
    free = {
        f"{s.name}-{r}-{n}"
        for s in candidates
        for r in range(1, s.rows + 1)
        for n in range(1, s.seats_per_row + 1)
        if seat_map.is_free(f"{s.name}-{r}-{n}")
    }
    chosen = seat_map.best_available(quantity, asked)
    if len(free) < quantity:
        assert chosen is None
        return
    assert chosen is not None and len(chosen) == quantity == len(set(chosen))
    assert set(chosen) <= free, "a seat that is taken, or of a section not asked for"
    with_block = next((s for s in candidates if any(True for _ in _blocks(seat_map, s, quantity))), None)
    if with_block is None:
        return  # no block anywhere: any free seats will do (nearest first, not checked here)
    # The oracle: every placement of the first section that has one, best by (score, row, start).
    blocks = list(_blocks(seat_map, with_block, quantity))
    _score, row, start, stranded = min(blocks)
    assert chosen == [f"{with_block.name}-{row}-{start + i}" for i in range(quantity)], (blocks, chosen)
    if stranded:
        chosen_distance = _distance(with_block, row, start, quantity)
        for _, r, s, strands in blocks:
            if not strands:
                assert _distance(with_block, r, s, quantity) >= chosen_distance + ORPHAN_PENALTY * stranded - 1e-9


@settings(max_examples=200, deadline=None)
@given(halls(), st.integers(1, 6), st.data())
def test_best_available_matches_the_brute_force_oracle(hall, quantity, data):
    layout, taken = hall
    seat_map = SeatMap(layout, dict(taken))
    asked = data.draw(
        st.none()
        | st.sampled_from([s.name for s in layout.sections]).map(lambda n: layout.sections_for(n, None))
        | st.sampled_from([100, 200]).map(lambda p: layout.sections_for(None, p))
    )
    if asked == []:
        asked = None  # no section at that price: the intake refuses such a request
    _check(seat_map, layout, quantity, asked)


@settings(max_examples=80, deadline=None)
@given(halls(), st.lists(st.tuples(st.booleans(), st.integers(1, 6)), max_size=25))
def test_best_available_stays_exact_through_claims_and_releases(hall, steps):
    """Take blocks and give some back, checking against the oracle each time: what a row remembered of its
    best block is never used after the row changed."""
    layout, taken = hall
    seat_map = SeatMap(layout, dict(taken))
    held: list[tuple[str, list[str]]] = []
    for n, (release, quantity) in enumerate(steps):
        if release and held:
            booking, seats = held.pop(quantity % len(held))
            seat_map.release(seats, booking)
        _check(seat_map, layout, quantity, None)
        chosen = seat_map.best_available(quantity)
        if chosen is not None:
            seat_map.claim(chosen, f"b{n}")
            held.append((f"b{n}", chosen))
    assert sum(seat_map.row_free) == seat_map.available == sum(seat_map.section_free)
