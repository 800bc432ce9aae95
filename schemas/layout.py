"""Seat layout of a show: sections of rows x seats; seat ids are `{section}-{row}-{seat}`, 1-based."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from schemas.validation import SchemaError, as_object, req_int, req_str

SECTION_NAME = re.compile(r"[A-Za-z0-9]{1,8}")
MAX_SECTIONS = 50
MAX_SEATS = 100_000


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    rows: int
    seats_per_row: int
    price_cents: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rows": self.rows, "seats_per_row": self.seats_per_row,
                "price_cents": self.price_cents}


def seat_id(section: str, row: int, seat: int) -> str:
    return f"{section}-{row}-{seat}"


@dataclass(frozen=True)
class Layout:
    sections: tuple[Section, ...]

    @property
    def seats_total(self) -> int:
        return sum(s.rows * s.seats_per_row for s in self.sections)

    def section(self, name: str) -> Section | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def contains(self, sid: str) -> bool:
        parts = sid.split("-")
        if len(parts) != 3:
            return False
        name, row, seat = parts
        if not (row.isdigit() and seat.isdigit()) or row[0] == "0" or seat[0] == "0":
            return False
        section = self.section(name)
        return section is not None and 1 <= int(row) <= section.rows and 1 <= int(seat) <= section.seats_per_row

    @classmethod
    def from_dicts(cls, sections: list[dict[str, Any]]) -> Layout:
        """A layout already validated (stored in PostgreSQL or a read model)."""
        return cls(tuple(Section(**s) for s in sections))

    def to_list(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.sections]

    @classmethod
    def parse(cls, value: Any, path: str) -> Layout:
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_SECTIONS:
            raise SchemaError(path, f"must be an array of 1..{MAX_SECTIONS} sections")
        sections = []
        names: set[str] = set()
        allowed = {"name", "rows", "seats_per_row", "price_cents"}
        for i, raw in enumerate(value):
            where = f"{path}[{i}]"
            obj = as_object(raw, where, allowed)
            name = req_str(obj, "name", where, max_len=8, pattern=SECTION_NAME)
            if name in names:
                raise SchemaError(f"{where}.name", f"duplicate section name {name!r}")
            names.add(name)
            sections.append(Section(
                name=name,
                rows=req_int(obj, "rows", where, lo=1, hi=200),
                seats_per_row=req_int(obj, "seats_per_row", where, lo=1, hi=200),
                price_cents=req_int(obj, "price_cents", where, lo=0, hi=10**9),
            ))
        layout = cls(tuple(sections))
        if layout.seats_total > MAX_SEATS:
            raise SchemaError(path, f"at most {MAX_SEATS} seats in all, got {layout.seats_total}")
        return layout
