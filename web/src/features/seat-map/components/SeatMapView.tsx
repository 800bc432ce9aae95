/**
 * The seat map: a canvas paints the visible part (so a 100,000-seat venue costs what a screenful costs),
 * and a virtualised layer of transparent buttons over the visible seats gives each seat an accessible
 * name ("Section A, row 3, seat 12, available"), a `data-seat-id`/`data-state` for tests, and keyboard
 * access through a roving focus: one seat is in the tab order; arrow keys, Home/End and PageUp/PageDown
 * move it; Enter or Space picks the seat.
 */
import {
  memo,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type FocusEvent,
  type KeyboardEvent,
  type MouseEvent,
} from 'react';
import {
  buildGeometry,
  forEachVisibleSeat,
  moveFocus,
  seatOrigin,
  type Geometry,
  type Move,
  type Viewport,
} from '../model/geometry';
import { formatMoney } from '../../../lib/money';
import { displayState, seatLabel, type DisplayState, type SeatMap } from '../model/seat-map';
import { nextFrame } from '../model/frame';
import { Batches, drawFrame } from './draw';
import { exposeSeatStates } from './test-hooks';

export interface SeatMapViewProps {
  map: SeatMap;
  /** Bumped whenever seat states changed, to repaint. */
  revision: number;
  /** Seat ids of my own live bookings. */
  mine: readonly string[];
  selected: readonly string[];
  onToggle(seatId: string, state: DisplayState, label: string): void;
  /** What the map is of, for its accessible name. */
  title: string;
  /** The show's currency (ISO 4217): section headers and each seat's tooltip give its price in it. */
  currency?: string;
}

export const CELL_SIZES = [8, 12, 16, 24, 32] as const;
/** The virtualised layer covers the viewport grown to whole bands of this many cells. */
const BAND = 4;
const FALLBACK_VIEW = { width: 1024, height: 600 };
const KEYS: Record<string, Move> = {
  ArrowLeft: 'left',
  ArrowRight: 'right',
  ArrowUp: 'up',
  ArrowDown: 'down',
  Home: 'rowStart',
  End: 'rowEnd',
  PageUp: 'pageUp',
  PageDown: 'pageDown',
};

/** Seats big enough to read their numbers, and on a touch screen to hit with a finger (32 px, near 44 with the
 * page's zoom-free phone layout); a big venue starts as an overview. */
export function defaultCellSize(total: number, coarse = coarsePointer()): number {
  if (total > 2_000) return 16;
  return coarse ? 32 : 24;
}

function coarsePointer(): boolean {
  return typeof window !== 'undefined' && typeof window.matchMedia === 'function'
    ? window.matchMedia('(pointer: coarse)').matches
    : false;
}

export function SeatMapView({
  map,
  revision,
  mine: mineIds,
  selected: selectedIds,
  onToggle,
  title,
  currency = 'EUR',
}: SeatMapViewProps) {
  const [cell, setCell] = useState(() => defaultCellSize(map.total));
  const geo = useMemo(() => buildGeometry(map, cell), [map, cell]);
  const mine = useMemo(() => toIndexSet(map, mineIds), [map, mineIds]);
  const selected = useMemo(() => toIndexSet(map, selectedIds), [map, selectedIds]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const layerRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [view, setView] = useState<Viewport>({ x: 0, y: 0, ...FALLBACK_VIEW });
  const [focused, setFocused] = useState(0);
  // The seat whose name and price the tooltip shows: the one under the pointer, else the focused one.
  const [tip, setTip] = useState<{ index: number; by: 'pointer' | 'focus' } | null>(null);
  const moveDomFocus = useRef(false);
  const batches = useMemo(() => new Batches(), []);

  // Follow the scroll position and size of the viewport, at most once per frame.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    let cancel: (() => void) | null = null;
    const read = () => {
      cancel = null;
      const next = {
        x: el.scrollLeft,
        y: el.scrollTop,
        width: el.clientWidth || FALLBACK_VIEW.width,
        height: el.clientHeight || FALLBACK_VIEW.height,
      };
      setView((v) =>
        v.x === next.x && v.y === next.y && v.width === next.width && v.height === next.height ? v : next,
      );
    };
    read();
    const schedule = () => {
      if (!cancel) cancel = nextFrame(read);
    };
    el.addEventListener('scroll', schedule, { passive: true });
    const resize = typeof ResizeObserver === 'function' ? new ResizeObserver(schedule) : null;
    resize?.observe(el);
    return () => {
      el.removeEventListener('scroll', schedule);
      resize?.disconnect();
      cancel?.();
    };
  }, []);

  // Paint the visible part.
  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(view.width * dpr);
    const h = Math.round(view.height * dpr);
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    canvas.style.width = `${view.width}px`;
    canvas.style.height = `${view.height}px`;
    drawFrame(ctx, { map, geo, view, mine, selected, dpr, batches, currency });
  }, [map, geo, view, mine, selected, revision, batches, currency]);

  // The seats that get a DOM element: those in the viewport grown to whole bands of BAND cells (so a
  // scroll re-renders the layer only when it crosses a band), plus the focused one (Tab always finds it).
  const band = BAND * geo.cell;
  const layerView = {
    x: Math.max(0, Math.floor(view.x / band) * band - band),
    y: Math.max(0, Math.floor(view.y / band) * band - band),
    width: (Math.ceil(view.width / band) + 2) * band,
    height: (Math.ceil(view.height / band) + 2) * band,
  };
  const { x: lx, y: ly, width: lw, height: lh } = layerView;
  const seats = useMemo(() => {
    const list: number[] = [];
    let hasFocused = false;
    forEachVisibleSeat(geo, map, { x: lx, y: ly, width: lw, height: lh }, (index) => {
      list.push(index);
      if (index === focused) hasFocused = true;
    });
    if (!hasFocused && focused < map.total) list.push(focused);
    return list;
  }, [geo, map, lx, ly, lw, lh, focused]);

  // After a keyboard move, put DOM focus on the new seat's element (rendered by now).
  useLayoutEffect(() => {
    if (!moveDomFocus.current) return;
    moveDomFocus.current = false;
    const el = layerRef.current?.querySelector<HTMLElement>(`[data-index="${focused}"]`);
    el?.focus({ preventScroll: true });
  }, [focused, seats]);

  // For browser tests: read any seat's state without scrolling to it. Not in the production build: Vite replaces
  // import.meta.env.MODE, so there the effect is empty and test-hooks.ts is left out (docs/WEB.md, "Two builds").
  const live = useRef({ map, mine });
  live.current = { map, mine };
  useEffect(() => (import.meta.env.MODE !== 'production' ? exposeSeatStates(live) : undefined), []);

  const scrollIntoView = (index: number) => {
    const el = scrollRef.current;
    if (!el) return;
    const { x, y } = seatOrigin(geo, map, index);
    const width = el.clientWidth || FALLBACK_VIEW.width;
    const height = el.clientHeight || FALLBACK_VIEW.height;
    const margin = geo.cell * 2;
    if (x < el.scrollLeft + margin) el.scrollLeft = Math.max(0, x - margin);
    else if (x + geo.cell > el.scrollLeft + width - margin) el.scrollLeft = x + geo.cell - width + margin;
    if (y < el.scrollTop + margin) el.scrollTop = Math.max(0, y - margin - 24);
    else if (y + geo.cell > el.scrollTop + height - margin) el.scrollTop = y + geo.cell - height + margin;
  };

  const indexOfEvent = (target: EventTarget | null): number => {
    const el = (target as HTMLElement | null)?.closest?.('[data-index]');
    return el ? Number(el.getAttribute('data-index')) : -1;
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const move = KEYS[event.key];
    if (!move) return;
    event.preventDefault();
    const pageRows = Math.max(1, Math.floor(view.height / geo.cell) - 1);
    const next = moveFocus(map, focused, move, pageRows);
    moveDomFocus.current = true;
    setFocused(next);
    scrollIntoView(next);
  };

  const onClick = (event: MouseEvent<HTMLDivElement>) => {
    const index = indexOfEvent(event.target);
    if (index < 0) return;
    setFocused(index);
    const state = displayState(map, index, mine);
    onToggle(map.seatId(index), state, seatLabel(map, index, state));
  };

  const onFocus = (event: FocusEvent<HTMLDivElement>) => {
    const index = indexOfEvent(event.target);
    if (index >= 0 && index !== focused) setFocused(index);
    if (index >= 0) setTip({ index, by: 'focus' });
  };
  const onPointerOver = (event: MouseEvent<HTMLDivElement>) => {
    const index = indexOfEvent(event.target);
    if (index >= 0) setTip({ index, by: 'pointer' });
  };
  const tipSeat = tip && tip.index < map.total ? tip.index : null;

  const loaded = map.version >= 0;
  return (
    <div
      className="seat-map"
      data-testid="seat-map"
      data-version={map.version}
      data-available={map.available}
      data-total={map.total}
      data-loaded={loaded}
    >
      <div className="seat-map-tools">
        <label>
          Seat size{' '}
          <select value={cell} onChange={(e) => setCell(Number(e.target.value))} data-testid="seat-size">
            {CELL_SIZES.map((size) => (
              <option key={size} value={size}>
                {size}px
              </option>
            ))}
          </select>
        </label>
        <span className="muted">
          {map.available.toLocaleString()} of {map.total.toLocaleString()} seats available
        </span>
      </div>
      <div className="stage" aria-hidden="true" data-testid="stage">
        Stage
      </div>
      <div className="seat-map-frame">
        <canvas ref={canvasRef} className="seat-map-canvas" aria-hidden="true" />
        <div
          ref={scrollRef}
          className="seat-map-scroll"
          style={{ height: Math.min(geo.height + 18, 640) }}
        >
          <div className="seat-map-content" style={{ width: geo.width, height: geo.height }}>
            <div
              ref={layerRef}
              role="application"
              aria-roledescription="seat map"
              aria-label={`Seat map of ${title}: ${map.total} seats. Arrow keys move between seats, Enter or Space picks one.`}
              className="seat-layer"
              onKeyDown={onKeyDown}
              onClick={onClick}
              onFocus={onFocus}
              onBlur={() => setTip((t) => (t?.by === 'focus' ? null : t))}
              onMouseOver={onPointerOver}
              onMouseLeave={() => setTip((t) => (t?.by === 'pointer' ? null : t))}
            >
              {loaded && (
                <SeatLayer
                  map={map}
                  geo={geo}
                  seats={seats}
                  revision={revision}
                  mine={mine}
                  selected={selected}
                  focused={focused}
                  currency={currency}
                />
              )}
              {loaded && tipSeat !== null && (
                <SeatTip map={map} geo={geo} index={tipSeat} mine={mine} currency={currency} />
              )}
            </div>
          </div>
        </div>
      </div>
    </div>
  );
}

interface SeatLayerProps {
  map: SeatMap;
  geo: Geometry;
  seats: readonly number[];
  revision: number;
  mine: ReadonlySet<number>;
  selected: ReadonlySet<number>;
  focused: number;
  currency: string;
}

/** Re-renders only when its seats, their states, the selection or the focus change, not on every scroll. */
const SeatLayer = memo(function SeatLayer({ map, geo, seats, mine, selected, focused, currency }: SeatLayerProps) {
  return (
    <>
      {seats.map((index) => {
        const { x, y } = seatOrigin(geo, map, index);
        const state = displayState(map, index, mine);
        return (
          <Seat
            key={index}
            map={map}
            index={index}
            x={x}
            y={y}
            size={geo.cell}
            state={state}
            code={map.states[index]}
            selected={selected.has(index)}
            tabbable={index === focused}
            currency={currency}
          />
        );
      })}
    </>
  );
});

interface SeatProps {
  map: SeatMap;
  index: number;
  x: number;
  y: number;
  size: number;
  state: DisplayState;
  /** The map's own state code: "mine" does not say held or booked, the label does (and memo must see it). */
  code: number;
  selected: boolean;
  tabbable: boolean;
  currency: string;
}

// `code` is not read: it is a prop so that memo re-renders the seat when its label changes (mine held → booked)
const Seat = memo(function Seat({ map, index, x, y, size, state, code: _code, selected, tabbable, currency }: SeatProps) {
  const label = seatLabel(map, index, state);
  return (
    <button
      type="button"
      className="seat"
      data-index={index}
      data-seat-id={map.seatId(index)}
      data-state={state}
      data-selected={selected}
      aria-label={label}
      // The price as the seat's description (its tooltip): the name stays what it was, for finding seats by it
      title={`${label} · ${formatMoney(map.locate(index).section.priceCents, currency)}`}
      aria-pressed={selected}
      aria-disabled={state !== 'available' && !selected}
      tabIndex={tabbable ? 0 : -1}
      style={{ left: x, top: y, width: size, height: size }}
    />
  );
});

/** The seat's name, state and price beside it (hover or keyboard focus); the screen reader has its label. */
function SeatTip(props: { map: SeatMap; geo: Geometry; index: number; mine: ReadonlySet<number>; currency: string }) {
  const { map, geo, index, mine, currency } = props;
  const { x, y } = seatOrigin(geo, map, index);
  const state = displayState(map, index, mine);
  const below = y < 40; // the first row's tip would leave the layer: under the seat instead
  return (
    <div
      className={below ? 'seat-tip seat-tip-below' : 'seat-tip'}
      aria-hidden="true"
      data-testid="seat-tip"
      style={{ left: x + geo.cell / 2, top: below ? y + geo.cell + 6 : y - 6 }}
    >
      {seatLabel(map, index, state)} · {formatMoney(map.locate(index).section.priceCents, currency)}
    </div>
  );
}

function toIndexSet(map: SeatMap, ids: readonly string[]): Set<number> {
  const set = new Set<number>();
  for (const id of ids) {
    const index = map.indexOf(id);
    if (index >= 0) set.add(index);
  }
  return set;
}
