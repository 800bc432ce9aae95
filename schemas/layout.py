"""Seat layout of a show: sections of rows x seats; seat ids are `{section}-{row}-{seat}`, 1-based."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from schemas.fields import MAX_SEATS, MAX_SECTIONS, PriceCents, Rows, SeatsPerRow, SectionName


class Focus(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A section's best point for best-available: a row, and a place along it (seat numbers, 1-based; a
    half-way value such as 10.5 is between two seats). Default: the centre of the front row."""

    row: Rows
    seat: Annotated[float, Meta(ge=1, le=200)]


class Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    name: SectionName
    rows: Rows
    seats_per_row: SeatsPerRow
    price_cents: PriceCents
    focus: Focus | None = None

    @property
    def best_point(self) -> tuple[float, float]:
        """(row, seat) that best-available gets as close to as it can."""
        if self.focus is not None:
            return float(self.focus.row), self.focus.seat
        return 1.0, (self.seats_per_row + 1) / 2


Sections = Annotated[list[Section], Meta(min_length=1, max_length=MAX_SECTIONS)]


def seat_id(section: str, row: int, seat: int) -> str:
    return f"{section}-{row}-{seat}"


def check_sections(sections: Sequence[Section]) -> None:
    """The rules JSON Schema cannot state: unique section names, at most MAX_SEATS seats in all."""
    names = [s.name for s in sections]
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"duplicate section name {duplicate!r}")
    for s in sections:
        if s.focus is not None and (s.focus.row > s.rows or s.focus.seat > s.seats_per_row):
            raise ValueError(f"section {s.name!r}: focus must lie within its {s.rows} rows x {s.seats_per_row} seats")
    total = sum(s.rows * s.seats_per_row for s in sections)
    if total > MAX_SEATS:
        raise ValueError(f"at most {MAX_SEATS} seats in all, got {total}")


class Layout:
    __slots__ = ("_by_name", "seats_total", "sections")

    def __init__(self, sections: Iterable[Section]) -> None:
        self.sections: tuple[Section, ...] = tuple(sections)
        self._by_name = {s.name: s for s in self.sections}
        self.seats_total = sum(s.rows * s.seats_per_row for s in self.sections)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Layout) and other.sections == self.sections

    def __hash__(self) -> int:
        return hash(self.sections)

    def __repr__(self) -> str:
        return f"Layout({self.sections!r})"

    def section(self, name: str) -> Section | None:
        return self._by_name.get(name)

    def contains(self, sid: str) -> bool:
        """True when `sid` names a seat of this layout (ASCII digits, no leading zeros)."""
        parts = sid.split("-")
        if len(parts) != 3:
            return False
        name, row, seat = parts
        if not (row.isascii() and row.isdigit() and seat.isascii() and seat.isdigit()):
            return False
        if row[0] == "0" or seat[0] == "0":
            return False
        section = self._by_name.get(name)
        return section is not None and 1 <= int(row) <= section.rows and 1 <= int(seat) <= section.seats_per_row

    @classmethod
    def from_dicts(cls, sections: list[dict[str, Any]]) -> Layout:
        """A layout as stored (PostgreSQL jsonb, a read model): decoded with the same types."""
        return cls(msgspec.convert(sections, list[Section]))

    def to_list(self) -> list[dict[str, Any]]:
        return [msgspec.to_builtins(s) for s in self.sections]

    def price_of(self, seats: Iterable[str]) -> int:
        """The sum of the seats' section prices (minor units); seats outside the layout count nothing."""
        total = 0
        for sid in seats:
            section = self._by_name.get(sid.split("-", 1)[0])
            if section is not None:
                total += section.price_cents
        return total

    def sections_for(self, section: str | None, price_cents: int | None) -> list[Section]:
        """The sections a best-available request may take seats from, in layout order."""
        return [
            s
            for s in self.sections
            if (section is None or s.name == section) and (price_cents is None or s.price_cents == price_cents)
        ]
