/**
 * Validation of the show-creation form: exactly what the intake validates (schemas/api.py and
 * schemas/layout.py), so the form never sends what the server would refuse and refuses nothing the
 * server would take. Lengths count code points, as Python's len() does.
 */
import type { CreateShowBody } from '../../../lib/types';

export const LIMITS = {
  textMax: 200,
  holdMin: 10,
  holdMax: 3600,
  holdDefault: 120,
  sectionsMax: 50,
  rowsMax: 200,
  seatsPerRowMax: 200,
  priceMax: 1_000_000_000,
  seatsMax: 100_000,
} as const;

export const SECTION_NAME = /^[A-Za-z0-9]{1,8}$/;
// C0 controls, DEL and C1 controls (Unicode category Cc)
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export interface SectionDraft {
  name: string;
  rows: string;
  seatsPerRow: string;
  priceCents: string;
}

export interface ShowDraft {
  title: string;
  venue: string;
  /** An <input type="datetime-local"> value (local time), or an RFC 3339 time with an offset. */
  startsAt: string;
  holdSeconds: string;
  sections: SectionDraft[];
}

/** Field path → message; paths: title, venue, starts_at, hold_seconds, sections, sections.N.name|rows|... */
export type FieldErrors = Record<string, string>;

export type ValidationResult = { ok: true; body: CreateShowBody; seats: number } | { ok: false; errors: FieldErrors; seats: number };

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function checkText(label: string, value: string): string | null {
  const n = codePoints(value);
  if (n < 1) return `${label} is required.`;
  if (n > LIMITS.textMax) return `${label} must be at most ${LIMITS.textMax} characters (it has ${n}).`;
  if (CONTROL.test(value)) return `${label} must not contain control characters (such as tabs or line breaks).`;
  return null;
}

function parseWhole(value: string): number | null {
  const text = value.trim();
  if (!/^\d{1,15}$/.test(text)) return null;
  return Number(text);
}

function checkInt(label: string, value: string, lo: number, hi: number): [number | null, string | null] {
  const n = parseWhole(value);
  if (n === null) return [null, `${label} must be a whole number from ${lo} to ${hi.toLocaleString('en')}.`];
  if (n < lo || n > hi) return [null, `${label} must be from ${lo} to ${hi.toLocaleString('en')}.`];
  return [n, null];
}

/** The instant a datetime-local value (no offset: local time) or an RFC 3339 time stands for, as UTC. */
export function toRfc3339(value: string): string | null {
  const text = value.trim();
  const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;
  const zoned = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;
  if (!local.test(text) && !zoned.test(text)) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function validateShow(draft: ShowDraft): ValidationResult {
  const errors: FieldErrors = {};
  const put = (path: string, message: string | null) => {
    if (message) errors[path] = message;
  };
  put('title', checkText('Title', draft.title));
  put('venue', checkText('Venue', draft.venue));
  const startsAt = toRfc3339(draft.startsAt);
  if (!startsAt) put('starts_at', 'Enter the date and time the show starts.');
  const [hold, holdError] =
    draft.holdSeconds.trim() === ''
      ? [LIMITS.holdDefault, null]
      : checkInt('Hold time', draft.holdSeconds, LIMITS.holdMin, LIMITS.holdMax);
  put('hold_seconds', holdError);

  if (draft.sections.length < 1 || draft.sections.length > LIMITS.sectionsMax) {
    put('sections', `A show has from 1 to ${LIMITS.sectionsMax} sections.`);
  }
  const seen = new Set<string>();
  let seats = 0;
  const sections = draft.sections.map((s, i) => {
    const at = `sections.${i}`;
    if (!SECTION_NAME.test(s.name)) {
      put(`${at}.name`, 'Section names are 1 to 8 letters or digits (A-Z, a-z, 0-9).');
    } else if (seen.has(s.name)) {
      put(`${at}.name`, `Section name ${s.name} is used twice; names must be unique.`);
    }
    seen.add(s.name);
    const [rows, rowsError] = checkInt('Rows', s.rows, 1, LIMITS.rowsMax);
    const [perRow, perRowError] = checkInt('Seats per row', s.seatsPerRow, 1, LIMITS.seatsPerRowMax);
    const [price, priceError] = checkInt('Price (cents)', s.priceCents, 0, LIMITS.priceMax);
    put(`${at}.rows`, rowsError);
    put(`${at}.seats_per_row`, perRowError);
    put(`${at}.price_cents`, priceError);
    if (rows !== null && perRow !== null) seats += rows * perRow;
    return { name: s.name, rows: rows ?? 0, seats_per_row: perRow ?? 0, price_cents: price ?? 0 };
  });
  if (seats > LIMITS.seatsMax && !errors.sections) {
    put('sections', `At most ${LIMITS.seatsMax.toLocaleString('en')} seats in all; these sections have ${seats.toLocaleString('en')}.`);
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors, seats };
  return {
    ok: true,
    seats,
    body: { title: draft.title, venue: draft.venue, starts_at: startsAt as string, hold_seconds: hold as number, sections },
  };
}

export function emptySection(index: number): SectionDraft {
  return { name: String.fromCharCode(65 + (index % 26)) + (index >= 26 ? String(Math.floor(index / 26)) : ''), rows: '10', seatsPerRow: '20', priceCents: '5000' };
}
