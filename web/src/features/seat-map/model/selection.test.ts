import { describe, expect, it } from 'vitest';
import { MAX_SELECTED_SEATS, pruneSelection, toggleSeat } from './selection';

describe('seat selection', () => {
  it('adds and removes available seats', () => {
    const a = toggleSeat([], 'A-1-1', 'available');
    expect(a).toEqual({ selected: ['A-1-1'], outcome: 'added' });
    const b = toggleSeat(a.selected, 'A-1-1', 'available');
    expect(b).toEqual({ selected: [], outcome: 'removed' });
  });

  it('refuses seats that are held, booked or mine', () => {
    for (const state of ['held', 'booked', 'mine', undefined] as const) {
      expect(toggleSeat(['A-1-1'], 'A-1-2', state)).toEqual({ selected: ['A-1-1'], outcome: 'unavailable' });
    }
  });

  it('allows at most ten seats, and unselecting at the limit', () => {
    let selected: string[] = [];
    for (let i = 1; i <= MAX_SELECTED_SEATS; i++) selected = toggleSeat(selected, `A-1-${i}`, 'available').selected;
    expect(selected).toHaveLength(10);
    const over = toggleSeat(selected, 'A-1-11', 'available');
    expect(over.outcome).toBe('limit');
    expect(over.selected).toHaveLength(10);
    // a selected seat that turned unavailable can still be unselected
    expect(toggleSeat(selected, 'A-1-3', 'held').outcome).toBe('removed');
  });

  it('prunes seats taken by others meanwhile', () => {
    const states: Record<string, 'available' | 'held'> = { 'A-1-1': 'available', 'A-1-2': 'held' };
    const out = pruneSelection(['A-1-1', 'A-1-2'], (id) => states[id]);
    expect(out).toEqual({ selected: ['A-1-1'], dropped: ['A-1-2'] });
    const same = ['A-1-1'];
    expect(pruneSelection(same, (id) => states[id]).selected).toBe(same);
  });
});
