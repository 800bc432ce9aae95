/**
 * How long to wait before asking again about a booking still RECEIVED (waiting in line): half the wait the
 * server estimates, between 0.5 s and 5 s. In an on-sale with a long line, clients that poll at a fixed fast
 * rate multiply the load on the intake by the length of the line (docs/SCALING.md); pacing by the estimate
 * keeps it to a few requests per booking.
 */
export const RECEIVED_POLL_MIN_MS = 500;
export const RECEIVED_POLL_MAX_MS = 5_000;

export function receivedPollMs(estimatedWaitS: number | null | undefined): number {
  if (estimatedWaitS == null || Number.isNaN(estimatedWaitS)) return RECEIVED_POLL_MIN_MS;
  return Math.min(RECEIVED_POLL_MAX_MS, Math.max(RECEIVED_POLL_MIN_MS, Math.round(estimatedWaitS * 500)));
}
