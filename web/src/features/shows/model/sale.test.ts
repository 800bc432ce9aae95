import { describe, expect, it } from 'vitest';
import { bookingBlocked, drawTime, salePhase } from './sale';

const opens = Date.parse('2027-01-01T10:00:00Z');
const show = {
  starts_at: '2027-02-01T20:00:00Z',
  sale_opens_at: '2027-01-01T10:00:00Z',
  sale_closes_at: '2027-02-01T18:00:00Z',
  fair_start_window_s: 10,
};

describe('salePhase', () => {
  it('counts down to the opening, then the fair start, then is open until the close', () => {
    expect(salePhase(show, opens - 61_500)).toEqual({ kind: 'before', opensAt: opens, secondsToOpen: 62, fairStartS: 10 });
    expect(salePhase(show, opens)).toEqual({ kind: 'fair-start', drawAt: opens + 10_000, secondsToDraw: 10, fairStartS: 10 });
    expect(salePhase(show, opens + 9_999)).toMatchObject({ kind: 'fair-start', secondsToDraw: 1 });
    expect(salePhase(show, opens + 10_000)).toEqual({ kind: 'open', closesAt: Date.parse('2027-02-01T18:00:00Z') });
    expect(salePhase(show, Date.parse('2027-02-01T18:00:00Z'))).toEqual({ kind: 'closed' });
  });

  it('reads a show without a sale window (created before them) as on sale until it starts', () => {
    const old = { starts_at: '2027-02-01T20:00:00Z', sale_opens_at: null, sale_closes_at: null };
    expect(salePhase(old, opens)).toEqual({ kind: 'open', closesAt: Date.parse('2027-02-01T20:00:00Z') });
    expect(salePhase(old, Date.parse('2027-02-01T20:00:00Z')).kind).toBe('closed');
    expect(drawTime(old)).toBeNull();
  });

  it('blocks booking before the opening and after the close, not during the fair start', () => {
    expect(bookingBlocked(salePhase(show, opens - 1))).toMatch(/not opened/);
    expect(bookingBlocked(salePhase(show, opens + 1))).toBeNull();
    expect(bookingBlocked(salePhase(show, Date.parse('2027-03-01T00:00:00Z')))).toMatch(/closed/);
    expect(drawTime(show)).toBe(opens + 10_000);
  });

  it('reads a cancelled show as cancelled whatever the time', () => {
    const cancelled = { ...show, cancelled_at: '2027-01-01T09:00:00Z' };
    expect(salePhase(cancelled, opens + 60_000)).toEqual({ kind: 'cancelled' });
    expect(bookingBlocked(salePhase(cancelled, opens))).toMatch(/cancelled/);
  });
});
