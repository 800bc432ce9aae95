/** The body of a booking request and when a retry reuses its Idempotency-Key. */
export const MAX_SEATS_PER_BOOKING = 10;

export type BookingBody = { seats: string[] } | { quantity: number };

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** Picked seats: 1..10 distinct ids. */
export function seatsRequest(seats: readonly string[]): Checked<BookingBody> {
  const distinct = [...new Set(seats)];
  if (distinct.length === 0) return { ok: false, error: 'Pick at least one seat on the map.' };
  if (distinct.length > MAX_SEATS_PER_BOOKING) {
    return { ok: false, error: `You can book at most ${MAX_SEATS_PER_BOOKING} seats at once.` };
  }
  return { ok: true, value: { seats: distinct } };
}

/** "Best N available": a whole number from 1 to 10, as typed in a number field. */
export function quantityRequest(input: string | number): Checked<BookingBody> {
  const text = String(input).trim();
  if (!/^\d+$/.test(text)) return { ok: false, error: 'Enter a whole number of seats, from 1 to 10.' };
  const quantity = Number(text);
  if (quantity < 1 || quantity > MAX_SEATS_PER_BOOKING) {
    return { ok: false, error: `Choose between 1 and ${MAX_SEATS_PER_BOOKING} seats.` };
  }
  return { ok: true, value: { quantity } };
}

export interface BookingAttempt {
  key: string;
  body: BookingBody;
  /** retriable: ended without a clear answer (network error, 429, 502, 503, 504). */
  outcome: 'pending' | 'accepted' | 'retriable' | 'refused';
}

export function sameBody(a: BookingBody, b: BookingBody): boolean {
  if ('seats' in a && 'seats' in b) {
    return a.seats.length === b.seats.length && a.seats.every((s, i) => s === b.seats[i]);
  }
  return 'quantity' in a && 'quantity' in b && a.quantity === b.quantity;
}

/**
 * The attempt for a press of Book: the same click retried after an unclear failure keeps its
 * Idempotency-Key (so the server cannot book twice); anything else gets a fresh key.
 */
export function nextAttempt(previous: BookingAttempt | null, body: BookingBody, freshKey: () => string): BookingAttempt {
  if (previous && previous.outcome === 'retriable' && sameBody(previous.body, body)) {
    return { ...previous, outcome: 'pending' };
  }
  return { key: freshKey(), body, outcome: 'pending' };
}
