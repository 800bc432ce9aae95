/**
 * Cost of the seat-map model for a 100,000-seat venue (the API's maximum), measured with
 * performance.now(). The canvas is a call-counting stand-in, so "draw" here is the model and batching
 * work, not the browser's rasterisation (docs/WEB.md has the figures measured in Chromium).
 * Bounds are generous (a shared 2-core machine); the figures are printed.
 */
import { describe, expect, it } from 'vitest';
import { bigVenue } from '../../../testing/fixtures';
import { mockContext } from '../../../testing/mock-canvas';
import { Batches, drawFrame } from '../components/draw';
import { buildGeometry } from './geometry';
import { SeatMap } from './seat-map';
import { SeatSync } from './seat-sync';

function time<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const out = fn();
  return [out, performance.now() - start];
}

describe('100,000-seat model cost', () => {
  it('builds, loads, streams and draws within budget', () => {
    const sections = bigVenue(100_000);
    const [map, buildMs] = time(() => new SeatMap(sections));
    expect(map.total).toBe(100_000);

    // a third of the house taken: ~33k ids in the snapshot
    const held: string[] = [];
    const booked: string[] = [];
    for (let i = 0; i < map.total; i += 3) (i % 2 ? held : booked).push(map.seatId(i));
    const [, snapshotMs] = time(() => map.loadSnapshot({ version: 1, held, booked }));
    expect(map.available).toBe(100_000 - held.length - booked.length);

    const geo = buildGeometry(map, 16);
    const ctx = mockContext();
    const batches = new Batches();
    const view = { x: 0, y: 0, width: 1280, height: 640 };
    const [visible, frameMs] = time(() =>
      drawFrame(ctx, { map, geo, view, mine: new Set(), selected: new Set(), dpr: 1, batches }),
    );

    // worst case: every seat in one frame (8 px seats, a viewport as big as the whole map)
    const small = buildGeometry(map, 8);
    const [all, fullMs] = time(() =>
      drawFrame(ctx, {
        map,
        geo: small,
        view: { x: 0, y: 0, width: small.width, height: small.height },
        mine: new Set(),
        selected: new Set(),
        dpr: 1,
        batches,
      }),
    );
    expect(all).toBe(100_000);

    // 2,000 streamed changes of 4 seats each, applied in order
    const sync = new SeatSync(map, { onApplied: () => {}, onRefetch: () => {} });
    const changes = Array.from({ length: 2_000 }, (_, k) => ({
      version: 2 + k,
      changes: [0, 1, 2, 3].map((j) => ({
        seat_id: map.seatId((k * 37 + j * 1_001) % map.total),
        state: (k % 3 === 0 ? 'available' : k % 3 === 1 ? 'held' : 'booked') as 'available' | 'held' | 'booked',
      })),
    }));
    const [, streamMs] = time(() => {
      for (const c of changes) sync.change(c);
    });
    expect(sync.version).toBe(2_001);

    const figures = {
      buildMs: +buildMs.toFixed(2),
      snapshotMs: +snapshotMs.toFixed(2),
      firstFrameVisibleSeats: visible,
      firstFrameMs: +frameMs.toFixed(2),
      fullMapFrameMs: +fullMs.toFixed(2),
      stream2000ChangesMs: +streamMs.toFixed(2),
    };
    console.log('seat-map 100k:', JSON.stringify(figures));
    expect(buildMs + snapshotMs + frameMs).toBeLessThan(1_000);
    expect(fullMs).toBeLessThan(1_500);
    expect(streamMs).toBeLessThan(1_000);
  });
});
