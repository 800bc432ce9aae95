/**
 * SeatMap: the state of every seat of a show, in typed arrays so a 100,000-seat venue costs ~100 KB and
 * a few milliseconds to build. Seats are numbered densely: section by section (in the show's order), then
 * row by row, then seat by seat. Seat ids are `{section}-{row}-{seat}`, 1-based (shared/API.md).
 */
import type { SeatChangeEvent, SeatMapSnapshot, Section, StreamedSeatState } from '../../../lib/types';

/** A seat's state as the API has it (the generated SeatChange's `state`). */
export type SeatState = StreamedSeatState;
/** What a person sees: a held or booked seat of one's own live booking is "mine". */
export type DisplayState = SeatState | 'mine';

export const AVAILABLE = 0;
export const HELD = 1;
export const BOOKED = 2;
const CODES: Record<SeatState, number> = { available: AVAILABLE, held: HELD, booked: BOOKED };
const NAMES: SeatState[] = ['available', 'held', 'booked'];

export interface SectionLayout {
  name: string;
  rows: number;
  seatsPerRow: number;
  priceCents: number;
  /** Index of the section's first seat (row 1, seat 1). */
  offset: number;
}

export interface SeatLocation {
  section: SectionLayout;
  sectionIndex: number;
  row: number;
  seat: number;
}

/** What a snapshot of the map needs of a /seats answer (SeatMapView). */
export type SeatSnapshot = Pick<SeatMapSnapshot, 'version' | 'held' | 'booked'>;

/** One seat's change in the stream's `change` event (the generated SeatChange). */
export type SeatChange = SeatChangeEvent['changes'][number];

export class SeatMap {
  readonly sections: readonly SectionLayout[];
  readonly total: number;
  /** One byte per seat: AVAILABLE, HELD or BOOKED. */
  readonly states: Uint8Array;
  /** The show_version of the last snapshot or change applied; -1 before the first snapshot. */
  version = -1;
  private availableCount: number;
  private readonly byName: Map<string, SectionLayout>;
  private readonly sectionIndexByName: Map<string, number>;

  constructor(sections: readonly Section[]) {
    let offset = 0;
    this.sections = sections.map((s) => {
      const layout = { name: s.name, rows: s.rows, seatsPerRow: s.seats_per_row, priceCents: s.price_cents, offset };
      offset += s.rows * s.seats_per_row;
      return layout;
    });
    this.total = offset;
    this.states = new Uint8Array(offset);
    this.availableCount = offset;
    this.byName = new Map(this.sections.map((s) => [s.name, s]));
    this.sectionIndexByName = new Map(this.sections.map((s, i) => [s.name, i]));
  }

  get available(): number {
    return this.availableCount;
  }

  /** Seats held (not yet booked): a scan, for the rare moment nothing is free (sold out, or only held). */
  countHeld(): number {
    let held = 0;
    for (let i = 0; i < this.states.length; i++) if (this.states[i] === HELD) held++;
    return held;
  }

  /** The dense index of a seat id, or -1 when the id is not part of this layout. */
  indexOf(seatId: string): number {
    const first = seatId.indexOf('-');
    const second = seatId.indexOf('-', first + 1);
    if (first <= 0 || second < 0 || seatId.indexOf('-', second + 1) >= 0) return -1;
    const section = this.byName.get(seatId.slice(0, first));
    if (!section) return -1;
    const row = parsePositive(seatId.slice(first + 1, second));
    const seat = parsePositive(seatId.slice(second + 1));
    if (row < 1 || row > section.rows || seat < 1 || seat > section.seatsPerRow) return -1;
    return section.offset + (row - 1) * section.seatsPerRow + (seat - 1);
  }

  /** Where a seat index lies; binary search over sections (at most 50). */
  locate(index: number): SeatLocation {
    if (!(index >= 0 && index < this.total)) throw new RangeError(`seat index ${index} out of range`);
    let lo = 0;
    let hi = this.sections.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.sections[mid].offset <= index) lo = mid;
      else hi = mid - 1;
    }
    const section = this.sections[lo];
    const within = index - section.offset;
    return {
      section,
      sectionIndex: lo,
      row: Math.floor(within / section.seatsPerRow) + 1,
      seat: (within % section.seatsPerRow) + 1,
    };
  }

  seatId(index: number): string {
    const { section, row, seat } = this.locate(index);
    return `${section.name}-${row}-${seat}`;
  }

  sectionIndex(name: string): number {
    return this.sectionIndexByName.get(name) ?? -1;
  }

  stateOf(index: number): SeatState {
    return NAMES[this.states[index]];
  }

  /** Sets one seat; returns true when its state changed. */
  setState(index: number, state: SeatState): boolean {
    const code = CODES[state];
    const before = this.states[index];
    if (code === undefined || before === code) return false;
    if (before === AVAILABLE) this.availableCount--;
    if (code === AVAILABLE) this.availableCount++;
    this.states[index] = code;
    return true;
  }

  /** Replaces every seat's state with a /seats snapshot: listed seats held or booked, the rest available. */
  loadSnapshot(snapshot: SeatSnapshot): void {
    this.states.fill(AVAILABLE);
    this.availableCount = this.total;
    for (const id of snapshot.held) {
      const i = this.indexOf(id);
      if (i >= 0) this.setState(i, 'held');
    }
    for (const id of snapshot.booked) {
      const i = this.indexOf(id);
      if (i >= 0) this.setState(i, 'booked');
    }
    this.version = snapshot.version;
  }

  /** Applies one change's seat states (not its version: see SeatSync); returns the indices that changed. */
  applyChanges(changes: readonly SeatChange[]): number[] {
    const changed: number[] = [];
    for (const change of changes) {
      const i = this.indexOf(change.seat_id);
      if (i >= 0 && this.setState(i, change.state)) changed.push(i);
    }
    return changed;
  }
}

function parsePositive(text: string): number {
  // 1-based decimal without a leading zero, as the backend's Layout.contains requires
  if (text.length === 0 || text.length > 6 || text[0] === '0') return -1;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** The state a person sees: a held or booked seat that is in one of my live bookings is "mine". */
export function displayState(map: SeatMap, index: number, mine: ReadonlySet<number>): DisplayState {
  const code = map.states[index];
  if (code !== AVAILABLE && mine.has(index)) return 'mine';
  return NAMES[code];
}

/** "Section A, row 3, seat 12, available" */
export function seatLabel(map: SeatMap, index: number, state: DisplayState): string {
  const { section, row, seat } = map.locate(index);
  const words: Record<DisplayState, string> = {
    available: 'available',
    held: 'held',
    booked: 'booked',
    // mine: held for me (to confirm) or booked by me
    mine: `mine, ${NAMES[map.states[index]]}`,
  };
  return `Section ${section.name}, row ${row}, seat ${seat}, ${words[state]}`;
}
