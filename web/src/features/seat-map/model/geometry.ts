/**
 * Where each seat is drawn. Sections are stacked top to bottom, each centred, with a header band
 * (name and price) and a gutter of row numbers on the left; a seat is a `cell`-pixel square.
 * Pure arithmetic, so hit testing and "which seats are visible" cost nothing per seat.
 */
import type { SeatMap } from './seat-map';

export interface Geometry {
  cell: number;
  /** Drawn size of a seat inside its cell. */
  seat: number;
  width: number;
  height: number;
  /** Per section: y of its header band, y of row 1, x of seat 1. */
  headerTops: number[];
  rowTops: number[];
  lefts: number[];
}

export const PADDING = 8;
export const GUTTER = 36;
export const HEADER = 24;
export const SECTION_GAP = 16;

export function buildGeometry(map: SeatMap, cell: number): Geometry {
  const maxSeats = Math.max(1, ...map.sections.map((s) => s.seatsPerRow));
  const headerTops: number[] = [];
  const rowTops: number[] = [];
  const lefts: number[] = [];
  let y = PADDING;
  for (const section of map.sections) {
    headerTops.push(y);
    rowTops.push(y + HEADER);
    lefts.push(PADDING + GUTTER + Math.floor(((maxSeats - section.seatsPerRow) * cell) / 2));
    y += HEADER + section.rows * cell + SECTION_GAP;
  }
  return {
    cell,
    seat: Math.max(2, cell - Math.max(1, Math.round(cell / 6))),
    width: PADDING * 2 + GUTTER + maxSeats * cell,
    height: y - SECTION_GAP + PADDING,
    headerTops,
    rowTops,
    lefts,
  };
}

/** Top-left corner of a seat's cell. */
export function seatOrigin(geo: Geometry, map: SeatMap, index: number): { x: number; y: number } {
  const { sectionIndex, row, seat } = map.locate(index);
  return { x: geo.lefts[sectionIndex] + (seat - 1) * geo.cell, y: geo.rowTops[sectionIndex] + (row - 1) * geo.cell };
}

/** The seat under a point in content coordinates, or -1. */
export function seatAt(geo: Geometry, map: SeatMap, x: number, y: number): number {
  for (let s = 0; s < map.sections.length; s++) {
    const section = map.sections[s];
    const top = geo.rowTops[s];
    if (y < top || y >= top + section.rows * geo.cell) continue;
    const left = geo.lefts[s];
    if (x < left || x >= left + section.seatsPerRow * geo.cell) return -1;
    const row = Math.floor((y - top) / geo.cell);
    const seat = Math.floor((x - left) / geo.cell);
    return section.offset + row * section.seatsPerRow + seat;
  }
  return -1;
}

export interface Viewport {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Calls `fn` for every seat whose cell intersects the viewport, in index order. */
export function forEachVisibleSeat(
  geo: Geometry,
  map: SeatMap,
  view: Viewport,
  fn: (index: number, x: number, y: number) => void,
): void {
  const cell = geo.cell;
  for (let s = 0; s < map.sections.length; s++) {
    const section = map.sections[s];
    const top = geo.rowTops[s];
    const left = geo.lefts[s];
    const firstRow = Math.max(0, Math.floor((view.y - top) / cell));
    const lastRow = Math.min(section.rows - 1, Math.floor((view.y + view.height - top) / cell));
    if (firstRow > lastRow) continue;
    const firstSeat = Math.max(0, Math.floor((view.x - left) / cell));
    const lastSeat = Math.min(section.seatsPerRow - 1, Math.floor((view.x + view.width - left) / cell));
    for (let r = firstRow; r <= lastRow; r++) {
      const base = section.offset + r * section.seatsPerRow;
      const y = top + r * cell;
      for (let k = firstSeat; k <= lastSeat; k++) fn(base + k, left + k * cell, y);
    }
  }
}

export type Move = 'left' | 'right' | 'up' | 'down' | 'rowStart' | 'rowEnd' | 'pageUp' | 'pageDown' | 'first' | 'last';

/** The seat a key moves the focus to; stays put at the edges. Up/down cross into the next section. */
export function moveFocus(map: SeatMap, index: number, move: Move, pageRows = 10): number {
  const loc = map.locate(index);
  const { section } = loc;
  const at = (sectionIndex: number, row: number, seat: number) => {
    const s = map.sections[sectionIndex];
    const r = Math.min(Math.max(row, 1), s.rows);
    const k = Math.min(Math.max(seat, 1), s.seatsPerRow);
    return s.offset + (r - 1) * s.seatsPerRow + (k - 1);
  };
  const vertical = (delta: number) => {
    let s = loc.sectionIndex;
    let row = loc.row + delta;
    while (row < 1 && s > 0) {
      s--;
      row += map.sections[s].rows;
    }
    while (row > map.sections[s].rows && s < map.sections.length - 1) {
      row -= map.sections[s].rows;
      s++;
    }
    return at(s, row, loc.seat);
  };
  switch (move) {
    case 'left':
      return at(loc.sectionIndex, loc.row, loc.seat - 1);
    case 'right':
      return at(loc.sectionIndex, loc.row, loc.seat + 1);
    case 'rowStart':
      return at(loc.sectionIndex, loc.row, 1);
    case 'rowEnd':
      return at(loc.sectionIndex, loc.row, section.seatsPerRow);
    case 'up':
      return vertical(-1);
    case 'down':
      return vertical(1);
    case 'pageUp':
      return vertical(-pageRows);
    case 'pageDown':
      return vertical(pageRows);
    case 'first':
      return 0;
    case 'last':
      return map.total - 1;
  }
}
