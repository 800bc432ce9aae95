/**
 * /dev/seat-map-perf?seats=100000&rate=200&seconds=10 — measures the seat map in a real browser with a
 * synthetic show (no API needed): time to the first painted frame, then, while `rate` seat changes per
 * second stream in (through SeatSync, as the live map applies them), the gaps between animation frames
 * and the long tasks. `scroll=N` also scrolls the map N pixels down every frame meanwhile (new seats
 * enter the virtualised layer on every frame: the worst case for it). The figures appear as JSON in [data-testid=perf-result]. See docs/WEB.md.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { SeatMap, SeatMapView, SeatSync } from '../../features/seat-map';
import { SEATS_PER_SHOW_MAX } from '../../lib/limits';
import { bigVenue } from '../../testing/fixtures';

const bootMs = performance.now();

function param(params: URLSearchParams, name: string, fallback: number, lo: number, hi: number): number {
  const n = Number(params.get(name) ?? fallback);
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, Math.floor(n))) : fallback;
}

export function SeatMapPerfPage() {
  const [params] = useSearchParams();
  const seats = param(params, 'seats', SEATS_PER_SHOW_MAX, 1, SEATS_PER_SHOW_MAX);
  const rate = param(params, 'rate', 200, 0, 100_000);
  const seconds = param(params, 'seconds', 10, 1, 120);
  const scroll = param(params, 'scroll', 0, 0, 2_000);
  const [setup] = useState(() => {
    const t0 = performance.now();
    const map = new SeatMap(bigVenue(seats));
    const held: string[] = [];
    const booked: string[] = [];
    for (let i = 0; i < map.total; i += 3) (i % 2 ? held : booked).push(map.seatId(i));
    const t1 = performance.now();
    map.loadSnapshot({ version: 1, held, booked });
    const t2 = performance.now();
    return { map, t0, idsMs: t1 - t0, snapshotMs: t2 - t1 };
  });
  const [revision, setRevision] = useState(0);
  const [result, setResult] = useState<Record<string, unknown> | null>(null);
  const [phase, setPhase] = useState('first-draw');
  const firstDraw = useRef<Record<string, number>>({});

  // children's layout effects (the canvas paint) run before this one
  useLayoutEffect(() => {
    const drawn = performance.now();
    requestAnimationFrame(() => {
      const framed = performance.now();
      firstDraw.current = {
        seats: setup.map.total,
        snapshotIdsBuildMs: round(setup.idsMs),
        snapshotLoadMs: round(setup.snapshotMs),
        renderAndDrawMs: round(drawn - setup.t0 - setup.idsMs - setup.snapshotMs),
        firstFrameMs: round(framed - setup.t0 - setup.idsMs),
        sincePageStartMs: round(framed),
        sinceModuleLoadMs: round(framed - bootMs),
        seatElements: document.querySelectorAll('.seat').length,
      };
      setResult({ ...firstDraw.current });
      setPhase(rate > 0 ? 'streaming' : 'done');
    });
  }, [setup]);

  useEffect(() => {
    if (phase !== 'streaming') return;
    const { map } = setup;
    let pending = false;
    const sync = new SeatSync(map, {
      onApplied: () => {
        if (pending) return;
        pending = true;
        requestAnimationFrame(() => {
          pending = false;
          setRevision((r) => r + 1);
        });
      },
      onRefetch: () => {},
    });
    let version = map.version;
    let applied = 0;
    const states = ['available', 'held', 'booked'] as const;
    const tickMs = 50;
    const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
    const producer = setInterval(() => {
      for (let k = 0; k < perTick; k++) {
        version++;
        const seat = Math.floor(Math.random() * map.total);
        sync.change({
          version,
          changes: [{ seat_id: map.seatId(seat), state: states[version % 3] }],
        });
        applied++;
      }
    }, tickMs);

    const gaps: number[] = [];
    let last = performance.now();
    const scroller = document.querySelector<HTMLElement>('.seat-map-scroll');
    let frame = requestAnimationFrame(function loop(now) {
      gaps.push(now - last);
      last = now;
      if (scroll > 0 && scroller) {
        const max = scroller.scrollHeight - scroller.clientHeight;
        scroller.scrollTop = scroller.scrollTop + scroll > max ? 0 : scroller.scrollTop + scroll;
      }
      frame = requestAnimationFrame(loop);
    });
    const longTasks: number[] = [];
    let observer: PerformanceObserver | null = null;
    try {
      observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
      observer.observe({ type: 'longtask', buffered: false });
    } catch {
      observer = null;
    }
    const stop = setTimeout(() => {
      clearInterval(producer);
      cancelAnimationFrame(frame);
      observer?.disconnect();
      const sorted = [...gaps].sort((a, b) => a - b);
      setResult({
        ...firstDraw.current,
        streamSeconds: seconds,
        scrollPxPerFrame: scroll,
        changesApplied: applied,
        frames: gaps.length,
        fps: round(gaps.length / seconds),
        frameGapP50Ms: round(sorted[Math.floor(sorted.length * 0.5)] ?? 0),
        frameGapP95Ms: round(sorted[Math.floor(sorted.length * 0.95)] ?? 0),
        frameGapMaxMs: round(sorted.at(-1) ?? 0),
        longTasks: longTasks.length,
        longTaskMaxMs: round(Math.max(0, ...longTasks)),
      });
      setPhase('done');
    }, seconds * 1000);
    return () => {
      clearInterval(producer);
      clearTimeout(stop);
      cancelAnimationFrame(frame);
      observer?.disconnect();
    };
  }, [phase, setup, rate, seconds, scroll]);

  return (
    <>
      <h1>Seat map performance</h1>
      <p>
        {setup.map.total.toLocaleString()} seats; {rate} changes/s for {seconds} s
        {scroll > 0 ? `, scrolling ${scroll} px a frame` : ''}. Phase:{' '}
        <span data-testid="perf-phase">{phase}</span>
      </p>
      <pre data-testid="perf-result" data-phase={phase}>
        {result ? JSON.stringify(result, null, 2) : 'measuring…'}
      </pre>
      <SeatMapView map={setup.map} revision={revision} mine={[]} selected={[]} onToggle={() => {}} title="perf" />
    </>
  );
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
