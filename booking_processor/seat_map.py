"""In-memory seat map of one show, owned by the processor that holds the show's row lock.

`owner` maps each held or booked seat to its claim. Each row also keeps an occupancy bytearray (0 = free)
and a free count, so the free runs of a row are found at C speed (`find` over the bytearray), and a free
count per section. Every change records the seat's claim before its first change since the last commit (`dirty`),
so the transaction can write exactly the difference.

Best available (`best_available`): the block of adjacent seats in one row whose centre is closest to the
section's best point (`Section.best_point`: the centre of the front row unless the layout names a focus),
where leaving a single free seat between the block and a taken seat or the row's end costs as much as
`ORPHAN_PENALTY` seats of distance: a block that strands a seat is taken only when no block nearly as good
avoids it (`placement_score`, the one definition the property tests check against a brute-force oracle).
Per section and quantity asked, a heap holds each row's best block (score, row, start) stamped with the
row's version: a request takes the top whose stamp is current, and the rows changed since that quantity was
last asked are scored again first (only they). A hot show's batch thus pays for the rows its own claims
touched, not for the whole section again per request, and the answer is exactly the best block.
"""

from __future__ import annotations

import heapq
import math
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


_TAKEN_BYTE = bytes((_TAKEN,))


@cache
def _free_run(quantity: int) -> bytes:
    """`quantity` free seats side by side, as a row's occupancy spells them."""
    return bytes(quantity)


def placement_score(section: Section, row: int, start: int, quantity: int, run_start: int, run_end: int) -> float:
    """How good seats `start`..`start + quantity - 1` (1-based) of `row` are, inside the free run
    `run_start`..`run_end` (1-based, inclusive) that holds them: the distance of the block's centre to the
    section's best point, plus ORPHAN_PENALTY for each single free seat it would leave at either side."""
    best_row, best_seat = section.best_point
    centre = start + (quantity - 1) / 2
    distance = math.hypot(centre - best_seat, row - best_row)
    stranded = (start - run_start == 1) + (run_end - (start + quantity - 1) == 1)
    return distance + ORPHAN_PENALTY * stranded


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
        "_heaps",
        "_occupancy",
        "_prefixes",
        "_row_index",
        "_row_section",
        "_row_stamp",
        "_sections",
        "_stale_rows",
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
        # Bumped on every change of a row. _heaps[quantity][section number]: (score, row, start, stamp) of each
        # row's best block; _stale_rows[quantity]: rows changed since that quantity's heaps were last brought
        # up to date (kept only for quantities that have heaps).
        self._row_stamp = [0] * len(self._occupancy)
        self._heaps: dict[int, dict[int, list[tuple[float, int, int, int]]]] = {}
        self._stale_rows: dict[int, set[int]] = {}
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
        for stale in self._stale_rows.values():
            stale.add(row)
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

    def free_in(self, sections: Sequence[Section] | None = None) -> int:
        """Free seats of `sections` (default: all)."""
        if sections is None:
            return self.available
        return sum(self.section_free[self._sections[s.name].number] for s in sections)

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
        heaps = self._heaps.get(quantity)
        if heaps is None:
            heaps = self._heaps[quantity] = {}
            self._stale_rows[quantity] = set()
        stamps = self._row_stamp
        stale = self._stale_rows[quantity]
        if stale:
            by_number = self._sections_by_number()
            for row in stale:
                heap = heaps.get(self._row_section[row])
                if heap is not None:
                    found = self._row_best(by_number[self._row_section[row]], row, quantity)
                    if found is not None:
                        heapq.heappush(heap, (found[0], row, found[1], stamps[row]))
            stale.clear()
        heap = heaps.get(rows.number)
        if heap is None:
            heap = []
            for _, row in rows.order:
                found = self._row_best(rows, row, quantity)
                if found is not None:
                    heap.append((found[0], row, found[1], stamps[row]))
            heapq.heapify(heap)
            heaps[rows.number] = heap
        while heap:
            _, row, start, stamp = heap[0]
            if stamp == stamps[row]:
                break
            heapq.heappop(heap)  # the row changed since: its current best is in the heap too (or it has none)
        else:
            return None
        if len(heap) > 4 * rows.section.rows + 64:  # outdated entries piled up below the top: keep the current
            heap[:] = [e for e in heap if e[3] == stamps[e[1]]]
            heapq.heapify(heap)
        return row, start

    def _sections_by_number(self) -> list[_SectionRows]:
        return list(self._sections.values())

    def _row_best(self, rows: _SectionRows, row: int, quantity: int) -> tuple[float, int] | None:
        """(score, first seat) of the row's best block of `quantity` adjacent free seats, or None.

        Within a free run the distance is convex in the block's start, smallest at the start nearest the best
        seat (`nearest`); only the two starts that strand a seat beside the block (second and last but one)
        cost more. So the run's best is `nearest` when it strands nothing, else `nearest` or the closest start
        that strands nothing on either side of it: at most three to score. The score is `placement_score`'s,
        written out for speed (the property tests hold the two equal through a brute-force oracle)."""
        if self.row_free[row] < quantity:
            return None
        best_seat = rows.best_seat
        dy = row - rows.first + 1 - rows.best_row
        half = (quantity - 1) / 2
        target = best_seat - half  # the start whose block is centred on the best seat
        nearest = math.floor(target)
        if target - nearest > 0.5:
            nearest += 1  # a tie goes to the lower seats
        best: tuple[float, int] | None = None
        occupancy, need = self._occupancy[row], _free_run(quantity)
        begin = occupancy.find(need)
        while begin >= 0:  # each free run of at least `quantity` seats: begin .. end - 1 (0-based)
            end = occupancy.find(_TAKEN_BYTE, begin + quantity)
            if end < 0:
                end = len(occupancy)
            first, last = begin + 1, end - quantity + 1  # the starts (1-based) the run allows
            begin = occupancy.find(need, end + 1) if end < len(occupancy) else -1
            start = min(last, max(first, nearest))
            if start - first != 1 and last - start != 1:
                starts: tuple[int, ...] = (start,)
            else:
                left, right = start - 1, start + 1
                while left >= first and (left - first == 1 or last - left == 1):
                    left -= 1
                while right <= last and (right - first == 1 or last - right == 1):
                    right += 1
                starts = (start, *((left,) if left >= first else ()), *((right,) if right <= last else ()))
            for start in starts:
                score = math.hypot(start + half - best_seat, dy)
                if start - first == 1:
                    score += ORPHAN_PENALTY
                if last - start == 1:
                    score += ORPHAN_PENALTY
                if best is None or (score, start) < best:
                    best = (score, start)
        return best
