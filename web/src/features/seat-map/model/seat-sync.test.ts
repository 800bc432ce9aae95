import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SeatMap } from './seat-map';
import { SeatSync, type RefetchReason } from './seat-sync';

const sections = [{ name: 'A', rows: 2, seats_per_row: 5, price_cents: 100 }];

function setup(gapTimeoutMs = 1_000, maxBuffered = 1_000) {
  const map = new SeatMap(sections);
  const applied: (number[] | 'all')[] = [];
  const refetches: RefetchReason[] = [];
  const sync = new SeatSync(map, {
    onApplied: (c) => applied.push(c),
    onRefetch: (r) => refetches.push(r),
    gapTimeoutMs,
    maxBuffered,
  });
  sync.snapshot({ version: 10, held: [], booked: [] });
  applied.length = 0;
  const state = (id: string) => map.stateOf(map.indexOf(id));
  return { map, sync, applied, refetches, state };
}

const held = (id: string) => ({ seat_id: id, state: 'held' as const });
const avail = (id: string) => ({ seat_id: id, state: 'available' as const });
const booked = (id: string) => ({ seat_id: id, state: 'booked' as const });

describe('SeatSync', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('applies the next version at once', () => {
    const { sync, state, applied } = setup();
    expect(sync.change({ version: 11, changes: [held('A-1-1')] })).toBe('applied');
    expect(state('A-1-1')).toBe('held');
    expect(sync.version).toBe(11);
    expect(applied).toEqual([[0]]);
  });

  it('moves the version on an empty change', () => {
    const { sync } = setup();
    expect(sync.change({ version: 11, changes: [] })).toBe('applied');
    expect(sync.version).toBe(11);
  });

  it('ignores duplicates, e.g. replayed after a reconnect', () => {
    const { sync, state } = setup();
    sync.change({ version: 11, changes: [held('A-1-1')] });
    sync.change({ version: 12, changes: [booked('A-1-1')] });
    // the stream resends 11 and 12 after a reconnect; 11 would otherwise turn A-1-1 back to held
    expect(sync.change({ version: 11, changes: [held('A-1-1')] })).toBe('duplicate');
    expect(sync.change({ version: 12, changes: [booked('A-1-1')] })).toBe('duplicate');
    expect(sync.change({ version: 9, changes: [avail('A-1-1')] })).toBe('duplicate');
    expect(state('A-1-1')).toBe('booked');
    expect(sync.version).toBe(12);
  });

  it('buffers out-of-order changes and applies them in version order', () => {
    const { sync, state, refetches } = setup();
    expect(sync.change({ version: 13, changes: [booked('A-1-1')] })).toBe('buffered');
    expect(sync.change({ version: 12, changes: [avail('A-1-1')] })).toBe('buffered');
    expect(state('A-1-1')).toBe('available');
    expect(sync.buffered).toBe(2);
    expect(sync.change({ version: 11, changes: [held('A-1-1')] })).toBe('applied');
    // 11 held, 12 available, 13 booked: the last one wins because they ran in order
    expect(state('A-1-1')).toBe('booked');
    expect(sync.version).toBe(13);
    expect(sync.buffered).toBe(0);
    vi.advanceTimersByTime(5_000);
    expect(refetches).toEqual([]);
  });

  it('asks for a refetch when a gap is not filled in time', () => {
    const { sync, refetches } = setup(1_000);
    sync.change({ version: 12, changes: [held('A-1-2')] });
    vi.advanceTimersByTime(999);
    expect(refetches).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(refetches).toEqual(['gap']);
    expect(sync.awaitingSnapshot).toBe(true);
    // more changes while waiting: no second request
    sync.change({ version: 14, changes: [] });
    vi.advanceTimersByTime(5_000);
    expect(refetches).toEqual(['gap']);
  });

  it('continues from the snapshot after a refetch, applying buffered changes that follow it', () => {
    const { sync, state, refetches, applied } = setup(1_000);
    sync.change({ version: 12, changes: [held('A-1-2')] });
    sync.change({ version: 16, changes: [booked('A-2-5')] });
    vi.advanceTimersByTime(1_000);
    expect(refetches).toEqual(['gap']);
    sync.snapshot({ version: 15, held: ['A-1-2', 'A-1-3'], booked: [] });
    expect(applied[0]).toBe('all');
    expect(state('A-1-3')).toBe('held');
    expect(state('A-2-5')).toBe('booked'); // 16 followed the snapshot's 15
    expect(sync.version).toBe(16);
    expect(sync.buffered).toBe(0);
    expect(sync.awaitingSnapshot).toBe(false);
  });

  it('asks for a refetch on a reset event', () => {
    const { sync, refetches } = setup();
    sync.reset();
    expect(refetches).toEqual(['reset']);
  });

  it('asks for a refetch when too many changes wait behind a gap', () => {
    const { sync, refetches } = setup(60_000, 3);
    for (const v of [12, 13, 14]) sync.change({ version: v, changes: [] });
    expect(refetches).toEqual([]);
    sync.change({ version: 15, changes: [] });
    expect(refetches).toEqual(['overflow']);
  });

  it('restarts the gap timer when a partial fill makes progress', () => {
    const { sync, refetches } = setup(1_000);
    sync.change({ version: 12, changes: [] });
    sync.change({ version: 14, changes: [] });
    vi.advanceTimersByTime(900);
    sync.change({ version: 11, changes: [] }); // applies 11 and 12; 13 still missing
    expect(sync.version).toBe(12);
    vi.advanceTimersByTime(900);
    expect(refetches).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(refetches).toEqual(['gap']);
  });
});
