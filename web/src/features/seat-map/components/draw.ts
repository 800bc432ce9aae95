/**
 * Canvas painting of seats. Colour is never the only signal: each state also has its own mark
 * (available: outline only; selected: tick; held: diagonal stripes; booked: cross; mine: dot).
 * Seats are painted in batches per look, one path per batch, so a frame of thousands of seats costs a
 * handful of fill/stroke calls.
 */
import type { Geometry, Viewport } from '../model/geometry';
import { formatMoney } from '../../../lib/money';
import { forEachVisibleSeat } from '../model/geometry';
import { AVAILABLE, type DisplayState, type SeatMap } from '../model/seat-map';

export type Look = DisplayState | 'selected';

export const LOOKS: Record<Look, { fill: string; edge: string; mark: string; words: string; sign: string }> = {
  available: { fill: '#ffffff', edge: '#2e7d32', mark: '', words: 'Available', sign: 'green outline, empty' },
  selected: { fill: '#2e7d32', edge: '#1b4d1e', mark: '#ffffff', words: 'Selected by you', sign: 'green with a tick' },
  held: { fill: '#f2b632', edge: '#7a5600', mark: '#5c4000', words: 'Held by someone', sign: 'amber with stripes' },
  booked: { fill: '#9a9a9a', edge: '#4d4d4d', mark: '#262626', words: 'Booked', sign: 'grey with a cross' },
  mine: { fill: '#1f5fbf', edge: '#0b2e66', mark: '#ffffff', words: 'Yours (held or booked)', sign: 'blue with a dot' },
};

const ORDER: Look[] = ['available', 'selected', 'held', 'booked', 'mine'];

/** Adds the mark of a look for a seat at (x, y) of size s to the current path. */
function addMark(ctx: CanvasRenderingContext2D, look: Look, x: number, y: number, s: number): void {
  switch (look) {
    case 'selected': {
      ctx.moveTo(x + s * 0.22, y + s * 0.52);
      ctx.lineTo(x + s * 0.42, y + s * 0.72);
      ctx.lineTo(x + s * 0.78, y + s * 0.3);
      break;
    }
    case 'held': {
      ctx.moveTo(x, y + s * 0.5);
      ctx.lineTo(x + s * 0.5, y);
      ctx.moveTo(x + s * 0.5, y + s);
      ctx.lineTo(x + s, y + s * 0.5);
      ctx.moveTo(x, y + s);
      ctx.lineTo(x + s, y);
      break;
    }
    case 'booked': {
      const m = s * 0.22;
      ctx.moveTo(x + m, y + m);
      ctx.lineTo(x + s - m, y + s - m);
      ctx.moveTo(x + s - m, y + m);
      ctx.lineTo(x + m, y + s - m);
      break;
    }
    case 'mine': {
      const r = Math.max(1, s * 0.2);
      ctx.moveTo(x + s / 2 + r, y + s / 2);
      ctx.arc(x + s / 2, y + s / 2, r, 0, Math.PI * 2);
      break;
    }
    case 'available':
      break;
  }
}

/** Paints seats of one look: fills, edges, then marks, each in one path. `xy` holds x0, y0, x1, y1, ... */
export function paintBatch(ctx: CanvasRenderingContext2D, look: Look, xy: ArrayLike<number>, count: number, size: number) {
  if (count === 0) return;
  const style = LOOKS[look];
  ctx.beginPath();
  for (let i = 0; i < count; i++) ctx.rect(xy[2 * i], xy[2 * i + 1], size, size);
  ctx.fillStyle = style.fill;
  ctx.fill();
  if (size >= 5 || look === 'available') {
    ctx.lineWidth = size >= 10 ? 1.5 : 1;
    ctx.strokeStyle = style.edge;
    ctx.stroke();
  }
  if (!style.mark || size < 4) return;
  ctx.beginPath();
  for (let i = 0; i < count; i++) addMark(ctx, look, xy[2 * i], xy[2 * i + 1], size);
  if (look === 'mine') {
    ctx.fillStyle = style.mark;
    ctx.fill();
  } else {
    ctx.lineWidth = look === 'held' ? Math.max(1, size / 10) : Math.max(1.25, size / 8);
    ctx.strokeStyle = style.mark;
    ctx.stroke();
  }
}

/** Reusable per-look coordinate buffers (grown as needed) so a frame allocates nothing per seat. */
export class Batches {
  private readonly xy = new Map<Look, Float32Array>();
  private readonly counts = new Map<Look, number>();

  reset(): void {
    for (const look of ORDER) this.counts.set(look, 0);
  }

  add(look: Look, x: number, y: number): void {
    const n = this.counts.get(look) ?? 0;
    let buf = this.xy.get(look);
    if (!buf || buf.length < 2 * (n + 1)) {
      const grown = new Float32Array(Math.max(256, (buf?.length ?? 0) * 2));
      if (buf) grown.set(buf);
      buf = grown;
      this.xy.set(look, buf);
    }
    buf[2 * n] = x;
    buf[2 * n + 1] = y;
    this.counts.set(look, n + 1);
  }

  paint(ctx: CanvasRenderingContext2D, size: number): void {
    for (const look of ORDER) paintBatch(ctx, look, this.xy.get(look) ?? [], this.counts.get(look) ?? 0, size);
  }

  count(look: Look): number {
    return this.counts.get(look) ?? 0;
  }
}

/** From this cell size on, each seat carries its number. */
export const SEAT_NUMBER_CELL = 24;

export interface FrameInput {
  map: SeatMap;
  geo: Geometry;
  view: Viewport;
  mine: ReadonlySet<number>;
  selected: ReadonlySet<number>;
  /** Canvas pixels per CSS pixel. */
  dpr: number;
  batches?: Batches;
  /** The show's currency (ISO 4217) for the section headers' prices; EUR when absent. */
  currency?: string;
}

/** Draws the visible part of the map; returns how many seats were painted. */
export function drawFrame(ctx: CanvasRenderingContext2D, input: FrameInput): number {
  const { map, geo, view, mine, selected, dpr } = input;
  const batches = input.batches ?? new Batches();
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, view.width, view.height);
  ctx.translate(-view.x, -view.y);

  // section headers and row numbers
  ctx.fillStyle = '#222222';
  ctx.textBaseline = 'middle';
  const labelFont = `${Math.max(9, Math.min(12, geo.cell - 3))}px system-ui, sans-serif`;
  for (let s = 0; s < map.sections.length; s++) {
    const section = map.sections[s];
    const headerTop = geo.headerTops[s];
    const bottom = geo.rowTops[s] + section.rows * geo.cell;
    if (bottom < view.y || headerTop > view.y + view.height) continue;
    ctx.font = 'bold 13px system-ui, sans-serif';
    ctx.textAlign = 'left';
    ctx.fillText(
      `Section ${section.name} · ${formatMoney(section.priceCents, input.currency ?? 'EUR')}`,
      Math.max(geo.lefts[s], view.x + 4),
      headerTop + 12,
    );
    if (geo.cell >= 10) {
      ctx.font = labelFont;
      ctx.textAlign = 'right';
      const firstRow = Math.max(0, Math.floor((view.y - geo.rowTops[s]) / geo.cell));
      const lastRow = Math.min(section.rows - 1, Math.floor((view.y + view.height - geo.rowTops[s]) / geo.cell));
      for (let r = firstRow; r <= lastRow; r++) {
        ctx.fillText(String(r + 1), geo.lefts[s] - 6, geo.rowTops[s] + r * geo.cell + geo.cell / 2);
      }
    }
  }

  batches.reset();
  let painted = 0;
  const states = map.states;
  const inset = (geo.cell - geo.seat) / 2;
  forEachVisibleSeat(geo, map, view, (index, x, y) => {
    painted++;
    const code = states[index];
    let look: Look;
    if (code === AVAILABLE) look = selected.has(index) ? 'selected' : 'available';
    else if (mine.has(index)) look = 'mine';
    else look = code === 1 ? 'held' : 'booked';
    batches.add(look, x + inset, y + inset);
  });
  batches.paint(ctx, geo.seat);
  // Seat numbers on the seats themselves, where they are big enough to read (not on a 100,000-seat overview).
  if (geo.cell >= SEAT_NUMBER_CELL) {
    ctx.font = `${Math.floor(geo.seat * 0.5)}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.fillStyle = '#1a1a2e';
    forEachVisibleSeat(geo, map, view, (index, x, y) => {
      // on free seats only: the others carry their state's mark (tick, stripes, cross, dot)
      if (states[index] !== AVAILABLE || selected.has(index)) return;
      ctx.fillText(String(map.locate(index).seat), x + geo.cell / 2, y + geo.cell / 2 + 1);
    });
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  return painted;
}
