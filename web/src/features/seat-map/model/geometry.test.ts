import { describe, expect, it } from 'vitest';
import { GUTTER, HEADER, PADDING, buildGeometry, forEachVisibleSeat, moveFocus, seatAt, seatOrigin } from './geometry';
import { SeatMap } from './seat-map';

const map = new SeatMap([
  { name: 'A', rows: 3, seats_per_row: 4, price_cents: 1 },
  { name: 'B', rows: 2, seats_per_row: 2, price_cents: 1 },
]);
const geo = buildGeometry(map, 10);

describe('geometry', () => {
  it('places seats and finds them back by point', () => {
    expect(seatOrigin(geo, map, 0)).toEqual({ x: PADDING + GUTTER, y: PADDING + HEADER });
    for (let i = 0; i < map.total; i++) {
      const { x, y } = seatOrigin(geo, map, i);
      expect(seatAt(geo, map, x + 5, y + 5)).toBe(i);
    }
    expect(seatAt(geo, map, 0, 0)).toBe(-1);
  });

  it('lists only the seats in the viewport', () => {
    const seen: number[] = [];
    const { x, y } = seatOrigin(geo, map, map.indexOf('A-2-2'));
    forEachVisibleSeat(geo, map, { x, y, width: 15, height: 5 }, (i) => seen.push(i));
    expect(seen.map((i) => map.seatId(i))).toEqual(['A-2-2', 'A-2-3']);
  });

  it('moves focus with arrow keys, across sections, stopping at the edges', () => {
    const id = (seat: string, move: Parameters<typeof moveFocus>[2]) => map.seatId(moveFocus(map, map.indexOf(seat), move));
    expect(id('A-1-1', 'left')).toBe('A-1-1');
    expect(id('A-1-1', 'right')).toBe('A-1-2');
    expect(id('A-1-4', 'right')).toBe('A-1-4');
    expect(id('A-1-2', 'down')).toBe('A-2-2');
    expect(id('A-3-4', 'down')).toBe('B-1-2');
    expect(id('B-1-1', 'up')).toBe('A-3-1');
    expect(id('A-1-1', 'up')).toBe('A-1-1');
    expect(id('B-2-2', 'down')).toBe('B-2-2');
    expect(id('A-2-3', 'rowStart')).toBe('A-2-1');
    expect(id('A-2-1', 'rowEnd')).toBe('A-2-4');
    expect(id('A-1-1', 'pageDown')).toBe('B-2-1');
  });
});
