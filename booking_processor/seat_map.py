"""In-memory seat map of one show, owned by the processor that holds the show's row lock.

`owner` maps each held or booked seat to its claim. Each row also keeps an occupancy bytearray (0 = free)
and a free count, so the free runs of a row are found at C speed (`re` over the bytearray), and a free count
per section. Every change records the seat's claim before its first change since the last commit (`dirty`),
so the transaction can write exactly the difference.

Best available (`best_available`): the block of adjacent seats in one row whose centre is closest to the
section's best point (`Section.best_point`: the centre of the front row unless the layout names a focus),
where leaving a single free seat between the block and a taken seat or the row's end costs as much as
`ORPHAN_PENALTY` seats of distance: a block that strands a seat is taken only when no block nearly as good
avoids it (`placement_score`, the one definition the property tests check against a brute-force oracle).
Rows are visited nearest the best point first and the search stops once a row is farther than the best
block found; each row's best block per quantity is remembered until the row changes, so a hot show's batch
pays for the rows its own claims touched, not for the whole section again per request.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import cache

from schemas.layout import Layout, Section

HELD = "HELD"
BOOKED = "BOOKED"

Claim = tuple[str, str]  # (booking_id, HELD|BOOKED)
_FREE = 0
_TAKEN = 1
# A stranded single seat costs this much distance (in seats/rows): see the module docstring.
ORPHAN_PENALTY = 2.0


@cache
def _runs(quantity: int) -> re.Pattern[bytes]:
    """Runs of at least `quantity` free seats in a row's occupancy."""
    return re.compile(rb"\x00{%d,}" % quantity)


def placement_score(section: Section, row: int, start: int, quantity: int, run_start: int, run_end: int) -> float:
    """How good seats `start`..`start + quantity - 1` (1-based) of `row` are, inside the free run
    `run_start`..`run_end` (1-based, inclusive) that holds them: the distance of the block's centre to the
    section's best point, plus ORPHAN_PENALTY for each single free seat it would leave at either side."""
    best_row, best_seat = section.best_point
    centre = start + (quantity - 1) / 2
    distance = math.hypot(centre - best_seat, row - best_row)
    stranded = (start - run_start == 1) + (run_end - (start + quantity - 1) == 1)
    return distance + ORPHAN_PENALTY * stranded


def _starts_to_try(run_start: int, run_end: int, quantity: int, best_seat: float) -> range | list[int]:
    """Block starts within a free run among which the best-scoring one always is: the score is convex in the
    start but for the two starts that strand a seat (run_start + 1, last - 1), so the optimum is at an end,
    at one of those two, or within two seats of the unconstrained optimum."""
    last = run_end - quantity + 1
    if last - run_start <= 8:
        return range(run_start, last + 1)
    ideal = math.floor(best_seat - (quantity - 1) / 2)
    found = {run_start, run_start + 1, run_start + 2, last - 2, last - 1, last}
    found.update(min(last, max(run_start, ideal + k)) for k in range(-2, 4))
    return sorted(found)


class _SectionRows:
    """A section's rows in the order best-available visits them (nearest its best row first)."""

    __slots__ = ("best_row", "best_seat", "first", "number", "order", "section")

    def __init__(self, section: Section, number: int, first: int) -> None:
        self.section = section
        self.number = number  # its place in the layout
        self.first = first  # index of its row 1 in the seat map's rows
        self.best_row, self.best_seat = section.best_point
        self.order = sorted((abs(r - self.best_row), first + r - 1) for r in range(1, section.rows + 1))


class SeatMap:
    __slots__ = (
        "_block_cache",
        "_occupancy",
        "_prefixes",
        "_row_index",
        "_row_section",
        "_row_stamp",
        "_sections",
        "available",
        "dirty",
        "layout",
        "owner",
        "row_free",
        "section_free",
    )

    def __init__(self, layout: Layout, owner: dict[str, Claim]) -> None:
        self.layout = layout
        self.owner = owner
        self._prefixes: list[str] = []  # "A-3-" for row 3 of section A
        self._occupancy: list[bytearray] = []
        self._row_index: dict[str, int] = {}
        self._row_section: list[int] = []
        self._sections: dict[str, _SectionRows] = {}
        for number, section in enumerate(layout.sections):
            self._sections[section.name] = _SectionRows(section, number, len(self._prefixes))
            for row in range(1, section.rows + 1):
                self._row_index[f"{section.name}-{row}"] = len(self._prefixes)
                self._prefixes.append(f"{section.name}-{row}-")
                self._occupancy.append(bytearray(section.seats_per_row))
                self._row_section.append(number)
        self.row_free = [len(o) for o in self._occupancy]
        self.section_free = [s.rows * s.seats_per_row for s in layout.sections]
        # Bumped on every change of a row; _block_cache[quantity][row] = (stamp, best block or None).
        self._row_stamp = [0] * len(self._occupancy)
        self._block_cache: dict[int, list[tuple[int, tuple[float, int] | None] | None]] = {}
        for sid in owner:
            self._mark(sid, _TAKEN)
        self.available = layout.seats_total - len(owner)
        self.dirty: dict[str, Claim | None] = {}

    def _mark(self, sid: str, value: int) -> int:
        cut = sid.rindex("-")
        row = self._row_index[sid[:cut]]
        self._occupancy[row][int(sid[cut + 1 :]) - 1] = value
        step = -1 if value == _TAKEN else 1
        self.row_free[row] += step
        self.section_free[self._row_section[row]] += step
        self._row_stamp[row] += 1
        return row

    def _touch(self, sid: str) -> None:
        if sid not in self.dirty:
            self.dirty[sid] = self.owner.get(sid)

    def is_free(self, sid: str) -> bool:
        return sid not in self.owner

    def claim(self, seats: list[str], booking_id: str) -> None:
        for sid in seats:
            self._touch(sid)
            self.owner[sid] = (booking_id, HELD)
            self._mark(sid, _TAKEN)
        self.available -= len(seats)

    def book(self, seats: list[str], booking_id: str) -> None:
        for sid in seats:
            self._touch(sid)
            self.owner[sid] = (booking_id, BOOKED)

    def release(self, seats: list[str], booking_id: str) -> None:
        for sid in seats:
            if self.owner.get(sid, ("",))[0] != booking_id:
                continue  # never release a seat another booking owns
            self._touch(sid)
            del self.owner[sid]
            self._mark(sid, _FREE)
            self.available += 1

    def changes(self) -> list[tuple[str, Claim | None, Claim | None]]:
        """(seat_id, claim before, claim now) for every seat whose claim changed since the last commit."""
        return [(sid, before, now) for sid, before in self.dirty.items() if (now := self.owner.get(sid)) != before]

    def committed(self) -> None:
        self.dirty.clear()

    def best_available(self, quantity: int, sections: Sequence[Section] | None = None) -> list[str] | None:
        """`quantity` seats from `sections` (default: all), taken in the order given: the best block of
        adjacent seats in one row of the first section that has one (see the module docstring); else the free
        seats of one row nearest the best point; else the free seats nearest the best point, row by row.
        None when the sections do not have that many free seats."""
        section_free = self.section_free
        candidates = [self._sections[s.name] for s in (self.layout.sections if sections is None else sections)]
        free = [c for c in candidates if section_free[c.number] > 0]
        if sum(section_free[c.number] for c in free) < quantity:
            return None
        for rows in free:
            if section_free[rows.number] >= quantity:
                block = self._best_block(rows, quantity)
                if block is not None:
                    row, start = block
                    prefix = self._prefixes[row]
                    return [f"{prefix}{start + i}" for i in range(quantity)]
        for rows in free:  # no block anywhere: one row, the seats nearest the best point
            for _, row in rows.order:
                if self.row_free[row] >= quantity:
                    return self._nearest_free(rows, [row], quantity)
        found: list[str] = []
        for rows in free:
            found += self._nearest_free(rows, [r for _, r in rows.order], quantity - len(found))
            if len(found) == quantity:
                break
        return found

    def _nearest_free(self, rows: _SectionRows, order: list[int], quantity: int) -> list[str]:
        """Up to `quantity` free seats of these rows, row by row, each row's nearest the best seat first."""
        found: list[str] = []
        for row in order:
            occupancy, prefix = self._occupancy[row], self._prefixes[row]
            seats = [n + 1 for n in range(len(occupancy)) if occupancy[n] == _FREE]
            seats.sort(key=lambda n: (abs(n - rows.best_seat), n))
            found += [f"{prefix}{n}" for n in sorted(seats[: quantity - len(found)])]
            if len(found) == quantity:
                break
        return found

    def _best_block(self, rows: _SectionRows, quantity: int) -> tuple[int, int] | None:
        """(row index, first seat) of the best-scoring block of `quantity` adjacent free seats in the section;
        ties go to the lower row index, then the lower seat."""
        cache = self._block_cache.get(quantity)
        if cache is None:
            cache = self._block_cache[quantity] = [None] * len(self._occupancy)
        stamps, row_free = self._row_stamp, self.row_free
        best: tuple[float, int, int] | None = None
        for distance, row in rows.order:
            if best is not None and distance > best[0]:
                break  # every block of this row and the rows after it is farther than the best one
            if row_free[row] < quantity:
                continue
            entry = cache[row]
            if entry is None or entry[0] != stamps[row]:
                entry = cache[row] = (stamps[row], self._row_best(rows, row, quantity))
            found = entry[1]
            if found is not None and (best is None or (found[0], row, found[1]) < best):
                best = (found[0], row, found[1])
        return None if best is None else (best[1], best[2])

    def _row_best(self, rows: _SectionRows, row: int, quantity: int) -> tuple[float, int] | None:
        """(score, first seat) of the row's best block of `quantity` adjacent free seats, or None."""
        section, number = rows.section, row - rows.first + 1
        best: tuple[float, int] | None = None
        for run in _runs(quantity).finditer(self._occupancy[row]):
            run_start, run_end = run.start() + 1, run.end()
            for start in _starts_to_try(run_start, run_end, quantity, rows.best_seat):
                score = placement_score(section, number, start, quantity, run_start, run_end)
                if best is None or (score, start) < best:
                    best = (score, start)
        return best
