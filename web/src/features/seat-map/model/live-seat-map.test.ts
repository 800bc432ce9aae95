import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveSeatMap, type EventSourceLike, type LiveStatus } from './live-seat-map';
import { SeatMap, type SeatSnapshot } from './seat-map';

class FakeEventSource implements EventSourceLike {
  readyState = 0;
  onopen: EventSourceLike['onopen'] = null;
  onerror: EventSourceLike['onerror'] = null;
  closed = false;
  private listeners = new Map<string, ((ev: MessageEvent) => void)[]>();
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (ev: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    this.onopen?.call(this, new Event('open'));
  }
  emit(type: string, data: unknown, id?: number) {
    const ev = new MessageEvent(type, { data: JSON.stringify(data), lastEventId: id === undefined ? '' : String(id) });
    for (const l of this.listeners.get(type) ?? []) l(ev);
  }
  fail(readyState: number) {
    this.readyState = readyState;
    this.onerror?.call(this, new Event('error'));
  }
}

const sections = [{ name: 'A', rows: 1, seats_per_row: 10, price_cents: 100 }];
const change = (version: number, seat: string, state: string) => ({
  show_id: 'sh_1',
  version,
  seats_available: 0,
  changes: [{ seat_id: seat, state }],
});

function setup(snapshots: SeatSnapshot[]) {
  const map = new SeatMap(sections);
  const streams: FakeEventSource[] = [];
  const statuses: LiveStatus[] = [];
  const fetchSnapshot = vi.fn(async () => {
    const next = snapshots.shift();
    if (!next) throw new Error('offline');
    return next;
  });
  const live = new LiveSeatMap({
    showId: 'sh_1',
    map,
    fetchSnapshot,
    openStream: (url) => {
      const s = new FakeEventSource(url);
      streams.push(s);
      return s;
    },
    onUpdate: () => {},
    onStatus: (s) => statuses.push(s),
    gapTimeoutMs: 500,
    retryMs: 1_000,
    heartbeatTimeoutMs: 35_000,
  });
  const state = (id: string) => map.stateOf(map.indexOf(id));
  return { map, live, streams, statuses, fetchSnapshot, state };
}

describe('LiveSeatMap', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('loads the snapshot, then streams after its version', async () => {
    const { live, streams, statuses, state } = setup([{ version: 5, held: ['A-1-1'], booked: [] }]);
    await live.start();
    expect(streams[0].url).toBe('/v1/shows/sh_1/seats/stream?after=5');
    streams[0].open();
    streams[0].emit('change', change(6, 'A-1-2', 'booked'), 6);
    expect(state('A-1-2')).toBe('booked');
    expect(statuses).toEqual(['live']);
    // the browser reconnects by itself and the server replays 6: nothing changes
    streams[0].fail(0);
    expect(statuses.at(-1)).toBe('reconnecting');
    streams[0].open();
    streams[0].emit('change', change(6, 'A-1-2', 'available'), 6);
    expect(state('A-1-2')).toBe('booked');
    expect(streams).toHaveLength(1);
    live.stop();
    expect(streams[0].closed).toBe(true);
  });

  it('refetches /seats on a reset event and reopens the stream after the new version', async () => {
    const { live, streams, fetchSnapshot, state, statuses } = setup([
      { version: 5, held: [], booked: [] },
      { version: 40, held: [], booked: ['A-1-9'] },
    ]);
    await live.start();
    streams[0].open();
    streams[0].emit('reset', { version: 40 });
    expect(statuses).toContain('resyncing');
    await vi.advanceTimersByTimeAsync(0);
    expect(fetchSnapshot).toHaveBeenCalledTimes(2);
    expect(streams[0].closed).toBe(true);
    expect(streams[1].url).toBe('/v1/shows/sh_1/seats/stream?after=40');
    expect(state('A-1-9')).toBe('booked');
  });

  it('refetches /seats when a gap is not filled', async () => {
    const { live, streams, fetchSnapshot } = setup([
      { version: 5, held: [], booked: [] },
      { version: 9, held: [], booked: [] },
    ]);
    await live.start();
    streams[0].open();
    streams[0].emit('change', change(8, 'A-1-3', 'held'), 8);
    await vi.advanceTimersByTimeAsync(499);
    expect(fetchSnapshot).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetchSnapshot).toHaveBeenCalledTimes(2);
    expect(streams[1].url).toBe('/v1/shows/sh_1/seats/stream?after=9');
  });

  it('reopens a stream the browser closed, after the applied version', async () => {
    const { live, streams, statuses } = setup([{ version: 5, held: [], booked: [] }]);
    await live.start();
    streams[0].open();
    streams[0].emit('change', change(6, 'A-1-1', 'held'), 6);
    streams[0].fail(2);
    expect(statuses.at(-1)).toBe('offline');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(streams[1].url).toBe('/v1/shows/sh_1/seats/stream?after=6');
  });

  it('reopens the stream after the applied version when asked (the network came back)', async () => {
    const { live, streams, statuses } = setup([{ version: 5, held: [], booked: [] }]);
    await live.start();
    streams[0].open();
    streams[0].emit('change', change(6, 'A-1-1', 'held'), 6);
    live.reconnect();
    expect(statuses.at(-1)).toBe('reconnecting');
    expect(streams[0].closed).toBe(true);
    expect(streams[1].url).toBe('/v1/shows/sh_1/seats/stream?after=6');
    streams[1].open();
    expect(statuses.at(-1)).toBe('live');
  });

  it('retries the snapshot when it cannot be fetched', async () => {
    const { live, streams, fetchSnapshot, statuses } = setup([]);
    await live.start();
    expect(statuses).toEqual(['offline']);
    expect(streams).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fetchSnapshot).toHaveBeenCalledTimes(2);
    live.stop();
  });

  it('goes live on the first heartbeat and applies a backlog that reaches the version it announced', async () => {
    const { live, streams, statuses, fetchSnapshot, state } = setup([{ version: 5, held: [], booked: [] }]);
    await live.start();
    streams[0].emit('heartbeat', { version: 7 });
    expect(statuses.at(-1)).toBe('live');
    streams[0].emit('change', change(6, 'A-1-1', 'held'), 6);
    streams[0].emit('change', { show_id: 'sh_1', version: 7, seats_available: 9, changes: [] }, 7);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(state('A-1-1')).toBe('held');
    expect(fetchSnapshot).toHaveBeenCalledTimes(1); // caught up: no refetch
    live.stop();
  });

  it('refetches when a heartbeat says the server sent changes we never saw', async () => {
    const { live, streams, fetchSnapshot } = setup([
      { version: 5, held: [], booked: [] },
      { version: 9, held: [], booked: ['A-1-4'] },
    ]);
    await live.start();
    streams[0].open();
    streams[0].emit('heartbeat', { version: 5 });
    streams[0].emit('heartbeat', { version: 9 }); // 6..9 were lost on the way
    await vi.advanceTimersByTimeAsync(499);
    expect(fetchSnapshot).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetchSnapshot).toHaveBeenCalledTimes(2);
    expect(streams[1].url).toBe('/v1/shows/sh_1/seats/stream?after=9');
    live.stop();
  });

  it('reopens a stream that stays silent past the heartbeat timeout (a dead connection)', async () => {
    const { live, streams, statuses } = setup([{ version: 5, held: [], booked: [] }]);
    await live.start();
    streams[0].open();
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(15_000);
      streams[0].emit('heartbeat', { version: 5 }); // heartbeats keep it open
    }
    expect(streams).toHaveLength(1);
    streams[0].emit('change', change(6, 'A-1-1', 'held'), 6);
    await vi.advanceTimersByTimeAsync(34_999);
    expect(streams).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(streams[0].closed).toBe(true);
    expect(statuses.at(-1)).toBe('reconnecting');
    expect(streams[1].url).toBe('/v1/shows/sh_1/seats/stream?after=6');
    streams[1].emit('heartbeat', { version: 6 });
    expect(statuses.at(-1)).toBe('live');
    live.stop();
  });
});
