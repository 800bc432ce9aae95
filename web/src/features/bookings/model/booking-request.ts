/** The body of a booking request (the generated BookingBody) and when a retry reuses its Idempotency-Key. */
import { bookingLimits } from '../../../lib/limits';
import type { BookingRequest } from '../../../lib/types';

/** One booking's limit of picked seats: BookingBody's `seats.maxItems`. */
export const MAX_SEATS_PER_BOOKING = bookingLimits.seats.max;

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** Picked seats: distinct ids, as many as BookingBody's `seats` takes. */
export function seatsRequest(seats: readonly string[]): Checked<BookingRequest> {
  const distinct = [...new Set(seats)];
  if (distinct.length < bookingLimits.seats.min) return { ok: false, error: 'Pick at least one seat on the map.' };
  if (distinct.length > MAX_SEATS_PER_BOOKING) {
    return { ok: false, error: `You can book at most ${MAX_SEATS_PER_BOOKING} seats at once.` };
  }
  return { ok: true, value: { seats: distinct } };
}

/** "Best N available": a whole number in BookingBody's `quantity` range, as typed in a number field. */
export function quantityRequest(input: string | number): Checked<BookingRequest> {
  const { min, max } = bookingLimits.quantity;
  const text = String(input).trim();
  if (!/^\d+$/.test(text)) return { ok: false, error: `Enter a whole number of seats, from ${min} to ${max}.` };
  const quantity = Number(text);
  if (quantity < min || quantity > max) {
    return { ok: false, error: `Choose between ${min} and ${max} seats.` };
  }
  return { ok: true, value: { quantity } };
}

export interface BookingAttempt {
  key: string;
  body: BookingRequest;
  /** retriable: ended without a clear answer (network error, 429, 502, 503, 504). */
  outcome: 'pending' | 'accepted' | 'retriable' | 'refused';
}

export function sameBody(a: BookingRequest, b: BookingRequest): boolean {
  const sameSeats =
    a.seats === b.seats ||
    (a.seats !== undefined && b.seats !== undefined && a.seats.length === b.seats.length && a.seats.every((s, i) => s === b.seats?.[i]));
  return sameSeats && a.quantity === b.quantity;
}

/**
 * The attempt for a press of Book: the same click retried after an unclear failure keeps its
 * Idempotency-Key (so the server cannot book twice); anything else gets a fresh key.
 */
export function nextAttempt(previous: BookingAttempt | null, body: BookingRequest, freshKey: () => string): BookingAttempt {
  if (previous && previous.outcome === 'retriable' && sameBody(previous.body, body)) {
    return { ...previous, outcome: 'pending' };
  }
  return { key: freshKey(), body, outcome: 'pending' };
}
