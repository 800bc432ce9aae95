import { describe, expect, it } from 'vitest';
import { SeatMap, displayState, seatLabel } from './seat-map';

const sections = [
  { name: 'A', rows: 3, seats_per_row: 4, price_cents: 5000 },
  { name: 'VIP1', rows: 2, seats_per_row: 5, price_cents: 9000 },
];

describe('SeatMap', () => {
  it('builds dense indices from sections', () => {
    const map = new SeatMap(sections);
    expect(map.total).toBe(22);
    expect(map.available).toBe(22);
    expect(map.version).toBe(-1);
    expect(map.indexOf('A-1-1')).toBe(0);
    expect(map.indexOf('A-3-4')).toBe(11);
    expect(map.indexOf('VIP1-1-1')).toBe(12);
    expect(map.indexOf('VIP1-2-5')).toBe(21);
    for (let i = 0; i < map.total; i++) expect(map.indexOf(map.seatId(i))).toBe(i);
    expect(map.locate(13)).toMatchObject({ sectionIndex: 1, row: 1, seat: 2 });
  });

  it('refuses ids outside the layout', () => {
    const map = new SeatMap(sections);
    for (const id of ['A-0-1', 'A-4-1', 'A-1-5', 'B-1-1', 'A-01-1', 'A-1', 'A-1-1-1', '', 'A-x-1', '-1-1']) {
      expect(map.indexOf(id), id).toBe(-1);
    }
  });

  it('loads a snapshot: listed seats held or booked, every other seat available', () => {
    const map = new SeatMap(sections);
    map.setState(5, 'booked');
    map.loadSnapshot({ version: 7, held: ['A-1-2', 'nope-1-1'], booked: ['VIP1-2-5'] });
    expect(map.version).toBe(7);
    expect(map.stateOf(map.indexOf('A-1-2'))).toBe('held');
    expect(map.stateOf(map.indexOf('VIP1-2-5'))).toBe('booked');
    expect(map.stateOf(5)).toBe('available');
    expect(map.available).toBe(20);
  });

  it('applies changes and reports only the seats that changed', () => {
    const map = new SeatMap(sections);
    map.loadSnapshot({ version: 1, held: ['A-1-1'], booked: [] });
    const changed = map.applyChanges([
      { seat_id: 'A-1-1', state: 'held' },
      { seat_id: 'A-1-2', state: 'booked' },
      { seat_id: 'Z-1-1', state: 'booked' },
    ]);
    expect(changed).toEqual([1]);
    expect(map.available).toBe(20);
  });

  it('labels seats with words, "mine" for my own held or booked seats', () => {
    const map = new SeatMap(sections);
    map.loadSnapshot({ version: 1, held: ['A-3-2'], booked: ['A-1-1'] });
    const mine = new Set([map.indexOf('A-3-2'), map.indexOf('A-2-2')]);
    expect(seatLabel(map, 9, displayState(map, 9, mine))).toBe('Section A, row 3, seat 2, mine, held');
    // A-2-2 is available again (my booking ended): not "mine" any more
    expect(displayState(map, map.indexOf('A-2-2'), mine)).toBe('available');
    expect(seatLabel(map, 0, displayState(map, 0, mine))).toBe('Section A, row 1, seat 1, booked');
  });
});
