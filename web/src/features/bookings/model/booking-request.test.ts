import { describe, expect, it } from 'vitest';
import { nextAttempt, quantityRequest, seatsRequest, type BookingAttempt } from './booking-request';

describe('booking request rules', () => {
  it('books 1..10 distinct picked seats', () => {
    expect(seatsRequest([])).toMatchObject({ ok: false });
    expect(seatsRequest(['A-1-1', 'A-1-1', 'A-1-2'])).toEqual({ ok: true, value: { seats: ['A-1-1', 'A-1-2'] } });
    const ten = Array.from({ length: 10 }, (_, i) => `A-1-${i + 1}`);
    expect(seatsRequest(ten)).toMatchObject({ ok: true });
    expect(seatsRequest([...ten, 'A-1-11'])).toEqual({ ok: false, error: 'You can book at most 10 seats at once.' });
  });

  it('asks for best N with N a whole number from 1 to 10', () => {
    expect(quantityRequest('1')).toEqual({ ok: true, value: { quantity: 1 } });
    expect(quantityRequest(10)).toEqual({ ok: true, value: { quantity: 10 } });
    for (const bad of ['0', '11', '2.5', '-1', '', 'three', '1e1']) {
      expect(quantityRequest(bad), bad).toMatchObject({ ok: false });
    }
  });

  it('reuses the Idempotency-Key only when retrying the same request after an unclear failure', () => {
    let n = 0;
    const fresh = () => `key-${++n}`;
    const first = nextAttempt(null, { seats: ['A-1-1'] }, fresh);
    expect(first).toEqual({ key: 'key-1', body: { seats: ['A-1-1'] }, outcome: 'pending' });
    const failed: BookingAttempt = { ...first, outcome: 'retriable' };
    expect(nextAttempt(failed, { seats: ['A-1-1'] }, fresh).key).toBe('key-1');
    expect(nextAttempt(failed, { seats: ['A-1-2'] }, fresh).key).toBe('key-2');
    expect(nextAttempt({ ...first, outcome: 'accepted' }, { seats: ['A-1-1'] }, fresh).key).toBe('key-3');
    expect(nextAttempt({ ...first, outcome: 'refused' }, { seats: ['A-1-1'] }, fresh).key).toBe('key-4');
    const best: BookingAttempt = { key: 'q', body: { quantity: 2 }, outcome: 'retriable' };
    expect(nextAttempt(best, { quantity: 2 }, fresh).key).toBe('q');
    expect(nextAttempt(best, { quantity: 3 }, fresh).key).toBe('key-5');
  });
});
