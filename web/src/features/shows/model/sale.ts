/**
 * Where a show's sale stands at a moment (the API's `sale_opens_at`, `sale_closes_at`, `fair_start_window_s`):
 * before the opening nothing can be booked (the server would answer `sale_not_open`); within the fair start's
 * window requests are drawn in a random order when it ends, so being fast buys nothing; then first come,
 * first served until the close (`sale_closed`).
 */
import type { Show } from '../../../lib/types';

export type SalePhase =
  | { kind: 'before'; opensAt: number; secondsToOpen: number; fairStartS: number }
  | { kind: 'fair-start'; drawAt: number; secondsToDraw: number; fairStartS: number }
  | { kind: 'open'; closesAt: number | null }
  | { kind: 'closed' }
  | { kind: 'cancelled' };

type SaleFields = Pick<Show, 'starts_at'> &
  Partial<Pick<Show, 'sale_opens_at' | 'sale_closes_at' | 'fair_start_window_s' | 'cancelled_at'>>;

const time = (value: string | null | undefined): number | null => {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
};

export function salePhase(show: SaleFields, nowMs: number): SalePhase {
  const opensAt = time(show.sale_opens_at);
  const closesAt = time(show.sale_closes_at) ?? time(show.starts_at);
  const fairStartS = show.fair_start_window_s ?? 0;
  if (show.cancelled_at) return { kind: 'cancelled' };
  if (closesAt !== null && nowMs >= closesAt) return { kind: 'closed' };
  if (opensAt !== null && nowMs < opensAt) {
    return { kind: 'before', opensAt, secondsToOpen: Math.ceil((opensAt - nowMs) / 1000), fairStartS };
  }
  if (opensAt !== null && fairStartS > 0 && nowMs < opensAt + fairStartS * 1000) {
    const drawAt = opensAt + fairStartS * 1000;
    return { kind: 'fair-start', drawAt, secondsToDraw: Math.ceil((drawAt - nowMs) / 1000), fairStartS };
  }
  return { kind: 'open', closesAt };
}

/** When the fair start's draw decides the window's requests (ms), or null for a show without one. */
export function drawTime(show: SaleFields): number | null {
  const opensAt = time(show.sale_opens_at);
  const fairStartS = show.fair_start_window_s ?? 0;
  return opensAt !== null && fairStartS > 0 ? opensAt + fairStartS * 1000 : null;
}

/** Why booking is not possible now, in words, or null while it is. */
export function bookingBlocked(phase: SalePhase): string | null {
  if (phase.kind === 'before') return 'Sales have not opened yet: booking opens when the countdown ends.';
  if (phase.kind === 'closed') return 'Sales for this show are closed.';
  if (phase.kind === 'cancelled') return 'This show was cancelled.';
  return null;
}
