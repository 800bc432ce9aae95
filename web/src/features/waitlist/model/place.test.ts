import { describe, expect, it } from 'vitest';
import type { WaitlistPlace } from '../../../lib/types';
import { isActive, placeMessage } from './place';

const place = (patch: Partial<WaitlistPlace>): WaitlistPlace => ({
  show_id: 'sh_1',
  customer_id: 'ann',
  status: 'WAITING',
  quantity: 2,
  updated_at: '2027-01-01T10:00:00Z',
  ...patch,
});

describe('placeMessage', () => {
  it('says where in line I am, and what happens next', () => {
    expect(placeMessage(place({ position: 2, waiting: 5 }))).toMatch(/^You are number 2 of 5 on the waiting list for 2 seats\./);
    expect(placeMessage(place({ quantity: 1, section: 'B', position: 1, waiting: 1 }))).toContain('1 seat in section B');
    expect(placeMessage(place({ status: 'OFFERED', booking_id: 'bk_1' }))).toMatch(/held for you/);
    expect(placeMessage(place({ status: 'REFUSED', reason: 'seats_available' }))).toMatch(/book them instead/);
    expect(placeMessage(place({ status: 'REFUSED', reason: 'something_new' }))).toContain('something_new');
  });

  it('keeps reading a place only while it waits', () => {
    expect(isActive(place({ status: 'RECEIVED' }))).toBe(true);
    expect(isActive(place({ status: 'WAITING' }))).toBe(true);
    expect(isActive(place({ status: 'OFFERED' }))).toBe(false);
    expect(isActive(null)).toBe(false);
  });
});
