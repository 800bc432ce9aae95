"""In-memory seat map of one show, owned by the processor that holds the show's row lock.

Only held and booked seats are stored; free counts per row make best-available cost depend on the
rows scanned, not on the size of the show. Every change records the seat's value before its first
change in the batch (`dirty`), so the transaction can write exactly the difference.
"""
from __future__ import annotations

from schemas.layout import Layout

HELD = "HELD"
BOOKED = "BOOKED"

Claim = tuple[str, str]  # (booking_id, HELD|BOOKED)


class SeatMap:
    __slots__ = ("_first_free_row", "_row_index", "_row_seats", "available", "dirty", "layout", "owner",
                 "row_free", "rows")

    def __init__(self, layout: Layout, owner: dict[str, Claim]) -> None:
        self.layout = layout
        self.owner = owner
        self.rows: list[tuple[str, int]] = []
        self._row_seats: list[int] = []
        self._row_index: dict[str, int] = {}
        for section in layout.sections:
            for row in range(1, section.rows + 1):
                self._row_index[f"{section.name}-{row}"] = len(self.rows)
                self.rows.append((section.name, row))
                self._row_seats.append(section.seats_per_row)
        self.row_free = list(self._row_seats)
        for sid in owner:
            self.row_free[self._row_of(sid)] -= 1
        self.available = layout.seats_total - len(owner)
        self._first_free_row = 0
        self.dirty: dict[str, object] = {}

    def _row_of(self, sid: str) -> int:
        return self._row_index[sid[: sid.rindex("-")]]

    def _touch(self, sid: str) -> None:
        if sid not in self.dirty:
            self.dirty[sid] = self.owner.get(sid)

    def is_free(self, sid: str) -> bool:
        return sid not in self.owner

    def claim(self, seats: list[str], booking_id: str) -> None:
        for sid in seats:
            self._touch(sid)
            self.owner[sid] = (booking_id, HELD)
            self.row_free[self._row_of(sid)] -= 1
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
            row = self._row_of(sid)
            self.row_free[row] += 1
            self.available += 1
            if row < self._first_free_row:
                self._first_free_row = row

    def changes(self) -> list[tuple[str, Claim | None, Claim | None]]:
        """(seat_id, claim before, claim now) for every seat whose claim changed since the last commit."""
        return [(sid, before, self.owner.get(sid)) for sid, before in self.dirty.items()
                if self.owner.get(sid) != before]  # type: ignore[misc]

    def committed(self) -> None:
        self.dirty.clear()

    def best_available(self, quantity: int) -> list[str] | None:
        """Same row and adjacent when possible, else same row, else the first free seats in row order."""
        if quantity > self.available:
            return None
        row_free, rows, owner = self.row_free, self.rows, self.owner
        while self._first_free_row < len(rows) and row_free[self._first_free_row] == 0:
            self._first_free_row += 1
        same_row: int | None = None
        for idx in range(self._first_free_row, len(rows)):
            if row_free[idx] < quantity:
                continue
            name, row = rows[idx]
            prefix = f"{name}-{row}-"
            run: list[str] = []
            for seat in range(1, self._row_seats[idx] + 1):
                sid = prefix + str(seat)
                if sid in owner:
                    run = []
                    continue
                run.append(sid)
                if len(run) == quantity:
                    return run
            if same_row is None:
                same_row = idx
        if same_row is not None:
            return self._free_in_rows([same_row], quantity)
        return self._free_in_rows(range(self._first_free_row, len(rows)), quantity)

    def _free_in_rows(self, indexes, quantity: int) -> list[str]:
        found: list[str] = []
        for idx in indexes:
            if self.row_free[idx] == 0:
                continue
            name, row = self.rows[idx]
            for seat in range(1, self._row_seats[idx] + 1):
                sid = f"{name}-{row}-{seat}"
                if sid not in self.owner:
                    found.append(sid)
                    if len(found) == quantity:
                        return found
        return found
