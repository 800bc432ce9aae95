import { describe, expect, it } from 'vitest';
import type { Booking, Show } from '../../../lib/types';
import { cancelTerms } from './terms';

const show = (over: Partial<Show> = {}): Show =>
  ({ show_id: 's', title: 't', venue: 'v', starts_at: '2030-01-10T20:00:00Z', hold_seconds: 120, sections: [],
     seats_total: 1, seats_available: 1, cancellable_until_hours: 48, refund_percent: 80, ...over }) as Show;
const paid = (amount: number): Booking =>
  ({ booking_id: 'b', show_id: 's', customer_id: 'c', status: 'CONFIRMED', seats: ['A-1-1'], reason: null,
     expires_at: null, created_at: '', updated_at: '',
     payment: { provider: 'dev', checkout_id: 'cs', status: 'paid', amount, currency: 'EUR' } }) as Booking;

describe('cancelTerms', () => {
  const early = Date.parse('2030-01-01T00:00:00Z');
  it('says what comes back, rounded down as the server rounds', () => {
    const terms = cancelTerms(paid(5001), show(), early);
    expect(terms.allowed).toBe(true);
    expect(terms.text).toContain('€40.00');
    expect(terms.text).toContain('80%');
  });
  it('closes at the deadline and when the show never allows it', () => {
    expect(cancelTerms(paid(5000), show(), Date.parse('2030-01-09T00:00:00Z')).allowed).toBe(false);
    expect(cancelTerms(paid(5000), show({ cancellable_until_hours: null }), early).allowed).toBe(false);
  });
  it('costs nothing while the seats are only held', () => {
    expect(cancelTerms({ ...paid(1), status: 'PENDING' }, show(), early).text).toContain('Nothing was paid');
  });
});
