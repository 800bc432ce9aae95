"""In-memory seat map of one show, owned by the processor that holds the show's row lock.

`owner` maps each held or booked seat to its claim. Each row also keeps an occupancy bytearray (0 = free)
and a free count, so best-available is a C-speed `find` over the few rows that have room, and its cost
does not depend on the size of the show. Every change records the seat's claim before its first change
since the last commit (`dirty`), so the transaction can write exactly the difference.
"""

from __future__ import annotations

from schemas.layout import Layout

HELD = "HELD"
BOOKED = "BOOKED"

Claim = tuple[str, str]  # (booking_id, HELD|BOOKED)
_FREE = 0
_TAKEN = 1


class SeatMap:
    __slots__ = (
        "_first_free_row",
        "_occupancy",
        "_prefixes",
        "_row_index",
        "available",
        "dirty",
        "layout",
        "owner",
        "row_free",
    )

    def __init__(self, layout: Layout, owner: dict[str, Claim]) -> None:
        self.layout = layout
        self.owner = owner
        self._prefixes: list[str] = []  # "A-3-" for row 3 of section A
        self._occupancy: list[bytearray] = []
        self._row_index: dict[str, int] = {}
        for section in layout.sections:
            for row in range(1, section.rows + 1):
                self._row_index[f"{section.name}-{row}"] = len(self._prefixes)
                self._prefixes.append(f"{section.name}-{row}-")
                self._occupancy.append(bytearray(section.seats_per_row))
        self.row_free = [len(o) for o in self._occupancy]
        for sid in owner:
            self._mark(sid, _TAKEN)
        self.available = layout.seats_total - len(owner)
        self._first_free_row = 0
        self.dirty: dict[str, Claim | None] = {}

    def _mark(self, sid: str, value: int) -> int:
        cut = sid.rindex("-")
        row = self._row_index[sid[:cut]]
        self._occupancy[row][int(sid[cut + 1 :]) - 1] = value
        self.row_free[row] += -1 if value == _TAKEN else 1
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
            row = self._mark(sid, _FREE)
            self.available += 1
            if row < self._first_free_row:
                self._first_free_row = row

    def changes(self) -> list[tuple[str, Claim | None, Claim | None]]:
        """(seat_id, claim before, claim now) for every seat whose claim changed since the last commit."""
        return [(sid, before, now) for sid, before in self.dirty.items() if (now := self.owner.get(sid)) != before]

    def committed(self) -> None:
        self.dirty.clear()

    def best_available(self, quantity: int) -> list[str] | None:
        """Same row and adjacent when possible, else same row, else the first free seats in row order."""
        if quantity > self.available:
            return None
        row_free, occupancy = self.row_free, self._occupancy
        rows = len(occupancy)
        while self._first_free_row < rows and row_free[self._first_free_row] == 0:
            self._first_free_row += 1
        run = bytes(quantity)  # `quantity` free seats side by side
        same_row: int | None = None
        for idx in range(self._first_free_row, rows):
            if row_free[idx] < quantity:
                continue
            start = occupancy[idx].find(run)
            if start >= 0:
                prefix = self._prefixes[idx]
                return [f"{prefix}{start + i + 1}" for i in range(quantity)]
            if same_row is None:
                same_row = idx
        found: list[str] = []
        for idx in [same_row] if same_row is not None else range(self._first_free_row, rows):
            row, prefix, start = occupancy[idx], self._prefixes[idx], 0
            while len(found) < quantity and (start := row.find(_FREE, start)) >= 0:
                found.append(f"{prefix}{start + 1}")
                start += 1
            if len(found) == quantity:
                break
        return found
