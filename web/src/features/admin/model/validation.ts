/**
 * Validation of the show-creation form: exactly what the intake validates (schemas/api.py and
 * schemas/layout.py), so the form never sends what the server would refuse and refuses nothing the
 * server would take. The limits are the API's own, read from its JSON Schema (lib/limits.ts); lengths
 * count code points, as JSON Schema and Python's len() do.
 */
import { codePoints, showLimits, textProblem, type Range, type TextLimit } from '../../../lib/limits';
import { formatMoney, fractionDigits, parseMoney } from '../../../lib/money';
import type { CreateShowBody } from '../../../lib/types';

/** The form's limits: the API's (POST /v1/shows). */
export const LIMITS = showLimits;
// The cancellation terms' ranges (schemas/fields.py CancellableUntilHours, RefundPercent).
export const CANCEL_HOURS = { min: 0, max: 8760 };
export const REFUND_PERCENT = { min: 0, max: 100 };

export interface SectionDraft {
  name: string;
  rows: string;
  seatsPerRow: string;
  /** In the show's currency's units, as typed: "45.00" (EUR), "1200" (JPY). */
  price: string;
}

export type Currency = (typeof LIMITS.currency.values)[number];

export interface ShowDraft {
  title: string;
  venue: string;
  /** An <input type="datetime-local"> value (local time), or an RFC 3339 time with an offset. */
  startsAt: string;
  holdSeconds: string;
  /** When sales open (as `startsAt`); empty: at once. */
  saleOpensAt?: string;
  /** Seconds after the opening whose requests are drawn in a random order ('' or '0': none). */
  fairStartWindow?: string;
  currency: Currency;
  sections: SectionDraft[];
  /** Confirmed bookings may be cancelled until this many hours before the start; 'never': they may not. */
  cancellableUntilHours?: string;
  /** Of what was paid, the percentage a cancellation refunds ('' : 100). */
  refundPercent?: string;
}

/** Field path → message; paths: title, venue, starts_at, hold_seconds, sections, sections.N.name|rows|... */
export type FieldErrors = Record<string, string>;

export type ValidationResult = { ok: true; body: CreateShowBody; seats: number } | { ok: false; errors: FieldErrors; seats: number };

function checkText(label: string, value: string, limit: TextLimit): string | null {
  switch (textProblem(value, limit)) {
    case 'empty':
      return `${label} is required.`;
    case 'short':
      return `${label} must be at least ${limit.minLength} characters (it has ${codePoints(value)}).`;
    case 'long':
      return `${label} must be at most ${limit.maxLength} characters (it has ${codePoints(value)}).`;
    case 'pattern':
      return `${label} must not contain control characters (such as tabs or line breaks).`;
    default:
      return null;
  }
}

function parseWhole(value: string): number | null {
  const text = value.trim();
  if (!/^\d{1,15}$/.test(text)) return null;
  return Number(text);
}

function checkInt(label: string, value: string, { min: lo, max: hi }: Range): [number | null, string | null] {
  const n = parseWhole(value);
  if (n === null) return [null, `${label} must be a whole number from ${lo} to ${hi.toLocaleString('en')}.`];
  if (n < lo || n > hi) return [null, `${label} must be from ${lo} to ${hi.toLocaleString('en')}.`];
  return [n, null];
}

/** A price typed in the currency's units → minor units (what the API takes), or the message. */
function checkPrice(value: string, currency: string, { min: lo, max: hi }: Range): [number | null, string | null] {
  const digits = fractionDigits(currency);
  const range = `from ${formatMoney(lo, currency, 'en')} to ${formatMoney(hi, currency, 'en')}`;
  const minor = parseMoney(value, currency);
  if (minor === null) {
    const shape = digits === 0 ? `a whole amount of ${currency}` : `an amount of ${currency} with at most ${digits} decimals`;
    return [null, `Price must be ${shape}, ${range}.`];
  }
  if (minor < lo || minor > hi) return [null, `Price must be ${range}.`];
  return [minor, null];
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
  put('title', checkText('Title', draft.title, LIMITS.title));
  put('venue', checkText('Venue', draft.venue, LIMITS.venue));
  const startsAt = toRfc3339(draft.startsAt);
  if (!startsAt) put('starts_at', 'Enter the date and time the show starts.');
  const [hold, holdError] =
    draft.holdSeconds.trim() === ''
      ? [LIMITS.holdSeconds.default, null]
      : checkInt('Hold time', draft.holdSeconds, LIMITS.holdSeconds);
  put('hold_seconds', holdError);
  const opensText = (draft.saleOpensAt ?? '').trim();
  const saleOpensAt = opensText === '' ? null : toRfc3339(opensText);
  if (opensText !== '' && !saleOpensAt) put('sale_opens_at', 'Enter the date and time sales open, or leave it empty.');
  else if (saleOpensAt && startsAt && Date.parse(saleOpensAt) >= Date.parse(startsAt)) {
    put('sale_opens_at', 'Sales must open before the show starts.');
  }
  const windowText = (draft.fairStartWindow ?? '').trim();
  const [fairStart, fairStartError] =
    windowText === '' ? [0, null] : checkInt('The fair start', windowText, LIMITS.fairStartWindow);
  put('fair_start_window_s', fairStartError);
  if (!fairStartError && fairStart && opensText === '') {
    put('fair_start_window_s', 'A fair start follows the opening of sales: set when sales open.');
  }

  const untilText = (draft.cancellableUntilHours ?? '').trim();
  const never = untilText === 'never';
  const [until, untilError] = untilText === '' || never ? [0, null] : checkInt('Cancellation', untilText, CANCEL_HOURS);
  put('cancellable_until_hours', untilError);
  const refundText = (draft.refundPercent ?? '').trim();
  const [refund, refundError] = refundText === '' ? [100, null] : checkInt('The refund', refundText, REFUND_PERCENT);
  put('refund_percent', refundError);

  if (draft.sections.length < LIMITS.sections.min || draft.sections.length > LIMITS.sections.max) {
    put('sections', `A show has from ${LIMITS.sections.min} to ${LIMITS.sections.max} sections.`);
  }
  const seen = new Set<string>();
  let seats = 0;
  const sections = draft.sections.map((s, i) => {
    const at = `sections.${i}`;
    if (textProblem(s.name, LIMITS.sectionName) !== null) {
      const { minLength, maxLength } = LIMITS.sectionName;
      put(`${at}.name`, `Section names are ${minLength} to ${maxLength} letters or digits (A-Z, a-z, 0-9).`);
    } else if (seen.has(s.name)) {
      put(`${at}.name`, `Section name ${s.name} is used twice; names must be unique.`);
    }
    seen.add(s.name);
    const [rows, rowsError] = checkInt('Rows', s.rows, LIMITS.rows);
    const [perRow, perRowError] = checkInt('Seats per row', s.seatsPerRow, LIMITS.seatsPerRow);
    const [price, priceError] = checkPrice(s.price, draft.currency, LIMITS.priceCents);
    put(`${at}.rows`, rowsError);
    put(`${at}.seats_per_row`, perRowError);
    put(`${at}.price_cents`, priceError);
    if (rows !== null && perRow !== null) seats += rows * perRow;
    return { name: s.name, rows: rows ?? 0, seats_per_row: perRow ?? 0, price_cents: price ?? 0 };
  });
  if (seats > LIMITS.seats.max && !errors.sections) {
    put('sections', `At most ${LIMITS.seats.max.toLocaleString('en')} seats in all; these sections have ${seats.toLocaleString('en')}.`);
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors, seats };
  return {
    ok: true,
    seats,
    body: {
      title: draft.title,
      venue: draft.venue,
      starts_at: startsAt as string,
      hold_seconds: hold as number,
      currency: draft.currency,
      sections,
      ...(saleOpensAt ? { sale_opens_at: saleOpensAt } : {}),
      ...(fairStart ? { fair_start_window_s: fairStart } : {}),
      ...(never ? { cancellable_until_hours: null } : until ? { cancellable_until_hours: until } : {}),
      ...(refund !== 100 ? { refund_percent: refund as number } : {}),
    },
  };
}

export function emptySection(index: number): SectionDraft {
  return { name: String.fromCharCode(65 + (index % 26)) + (index >= 26 ? String(Math.floor(index / 26)) : ''), rows: '10', seatsPerRow: '20', price: '50' };
}
