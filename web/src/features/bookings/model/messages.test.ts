import { describe, expect, it } from 'vitest';
import {
  REASON_MESSAGES,
  canCancel,
  canConfirm,
  queueMessage,
  reasonMessage,
  refusalMessage,
  statusMessage,
} from './messages';

describe('booking messages', () => {
  it('has a human message for every rejection reason of the contract', () => {
    for (const reason of [
      'seat_unavailable',
      'sold_out',
      'show_not_found',
      'invalid_seat',
      'too_many_seats',
      'invalid_request',
      'hold_expired',
      'customer_limit',
      'sale_closed',
    ]) {
      expect(REASON_MESSAGES[reason], reason).toBeTruthy();
      expect(reasonMessage(reason)).not.toContain('_');
    }
    expect(reasonMessage('something_new')).toBe('The booking was not made (something_new).');
  });

  it('says why a confirm or cancel was refused', () => {
    const at = '2027-01-01T20:00:00Z';
    expect(refusalMessage(null)).toBeNull();
    expect(refusalMessage({ action: 'confirm', reason: 'booking_expired', at })).toBe(
      'Your confirmation could not be applied: the hold had already run out and the seats were released.',
    );
    expect(refusalMessage({ action: 'cancel', reason: 'booking_rejected', at })).toBe(
      'Your cancellation could not be applied: the booking had been rejected.',
    );
    expect(refusalMessage({ action: 'cancel', reason: 'something_new', at })).toContain('(something_new)');
    expect(refusalMessage({ action: 'extend', reason: 'extension_limit', at })).toBe(
      'Your request for more time could not be applied: the hold has been extended as many times as this show allows.',
    );
  });

  it('tells the place in line', () => {
    expect(queueMessage(3, 2.4)).toBe('3 ahead of you, about 2 s.');
    expect(queueMessage(3, null)).toBe('3 ahead of you.');
    expect(queueMessage(0, 0.2)).toBe('You are next, about 1 s.');
    expect(statusMessage({ status: 'RECEIVED', reason: null, queue_position: 12, estimated_wait_s: 6 })).toContain(
      '12 ahead of you, about 6 s.',
    );
  });

  it('tells a request that came too early when the sale opens', () => {
    const early = statusMessage({
      status: 'REJECTED',
      reason: 'sale_not_open',
      queue_position: null,
      estimated_wait_s: null,
      sale_opens_at: '2030-01-01T10:00:00Z',
    });
    expect(early).toContain('had not opened yet');
    expect(early).toContain(`Sales open at ${new Date('2030-01-01T10:00:00Z').toLocaleString()}.`);
  });

  it('allows confirm only when PENDING and cancel when PENDING or CONFIRMED', () => {
    const all = ['RECEIVED', 'PENDING', 'REJECTED', 'CONFIRMED', 'EXPIRED', 'CANCELLED'] as const;
    expect(all.filter(canConfirm)).toEqual(['PENDING']);
    expect(all.filter(canCancel)).toEqual(['PENDING', 'CONFIRMED']);
  });
});
