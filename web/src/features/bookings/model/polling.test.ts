import { describe, expect, it } from 'vitest';
import { RECEIVED_POLL_MAX_MS, RECEIVED_POLL_MIN_MS, receivedPollMs } from './polling';

describe('receivedPollMs', () => {
  it('polls fast when the server gives no estimate or a short one', () => {
    expect(receivedPollMs(undefined)).toBe(RECEIVED_POLL_MIN_MS);
    expect(receivedPollMs(null)).toBe(RECEIVED_POLL_MIN_MS);
    expect(receivedPollMs(0)).toBe(RECEIVED_POLL_MIN_MS);
    expect(receivedPollMs(0.4)).toBe(RECEIVED_POLL_MIN_MS);
  });

  it('waits half the estimate in between', () => {
    expect(receivedPollMs(3)).toBe(1_500);
    expect(receivedPollMs(6.2)).toBe(3_100);
  });

  it('never waits longer than the ceiling, even in a very long line', () => {
    expect(receivedPollMs(60)).toBe(RECEIVED_POLL_MAX_MS);
    expect(receivedPollMs(Number.POSITIVE_INFINITY)).toBe(RECEIVED_POLL_MAX_MS);
    expect(receivedPollMs(Number.NaN)).toBe(RECEIVED_POLL_MIN_MS);
  });
});
