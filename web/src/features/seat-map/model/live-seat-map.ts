/**
 * LiveSeatMap keeps a SeatMap up to date: it loads the /seats snapshot, then follows
 * /seats/stream?after=<version> over Server-Sent Events, feeding SeatSync. On a gap that is not filled,
 * a `reset` event, or a stream the browser gave up on, it refetches the snapshot and reopens the stream
 * after the snapshot's version. The browser's own EventSource reconnects (sending Last-Event-ID) are
 * left to it; the duplicates they may bring are ignored by SeatSync.
 *
 * The server sends `event: heartbeat` (data: the version it has sent up to) when a stream opens and every
 * 15 s. A heartbeat marks the stream live and tells SeatSync where the server is (so a change lost on the
 * way is noticed), and a watchdog reopens a stream that has been silent for `heartbeatTimeoutMs` (a
 * connection that died without closing never errors in EventSource).
 */
import type { paths } from '../../../lib/api-types';
import type { SeatChangeEvent, StreamMark } from '../../../lib/types';
import type { SeatMap, SeatSnapshot } from './seat-map';
import { SeatSync, type RefetchReason, type Timers } from './seat-sync';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'resyncing' | 'offline';

/** The part of EventSource we use (so tests can pass a fake). */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((this: EventSourceLike, ev: Event) => unknown) | null;
  onerror: ((this: EventSourceLike, ev: Event) => unknown) | null;
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void;
  close(): void;
}

export interface LiveSeatMapOptions {
  showId: string;
  map: SeatMap;
  fetchSnapshot(): Promise<SeatSnapshot>;
  openStream(url: string): EventSourceLike;
  onUpdate(changed: number[] | 'all'): void;
  onStatus(status: LiveStatus): void;
  timers?: Timers;
  gapTimeoutMs?: number;
  /** Delay before reopening a stream the browser closed, and between failed snapshot fetches. */
  retryMs?: number;
  /** A stream silent this long (no heartbeat, no change) is reopened: two missed heartbeats and a margin. */
  heartbeatTimeoutMs?: number;
}

/** The server's heartbeat period is 15 s. */
export const HEARTBEAT_TIMEOUT_MS = 35_000;

const CLOSED = 2;

/** The stream's path and query, checked against the generated `paths` (EventSource does not go through the API client). */
const STREAM_PATH = '/v1/shows/{show_id}/seats/stream' satisfies keyof paths;
type StreamQuery = NonNullable<paths[typeof STREAM_PATH]['get']['parameters']['query']>;

export function streamUrl(showId: string, after: NonNullable<StreamQuery['after']>): string {
  return `${STREAM_PATH.replace('{show_id}', encodeURIComponent(showId))}?after=${after}`;
}

export class LiveSeatMap {
  readonly sync: SeatSync;
  private stream: EventSourceLike | null = null;
  private stopped = false;
  private retryTimer: unknown = null;
  private watchdog: unknown = null;
  private readonly timers: Timers;
  private status: LiveStatus = 'connecting';
  private loading = false;

  constructor(private readonly options: LiveSeatMapOptions) {
    this.timers = options.timers ?? {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
    };
    this.sync = new SeatSync(options.map, {
      onApplied: (changed) => options.onUpdate(changed),
      onRefetch: (reason) => this.resync(reason),
      gapTimeoutMs: options.gapTimeoutMs,
      timers: this.timers,
    });
  }

  start(): Promise<void> {
    this.setStatus('connecting');
    return this.loadAndStream();
  }

  stop(): void {
    this.stopped = true;
    this.closeStream();
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.sync.dispose();
  }

  /**
   * Reopens the stream after the applied version: when the network is known to have come back
   * (`online`), or when the watchdog found the stream silent.
   */
  reconnect(): void {
    if (this.stopped || this.loading || this.sync.version < 0) return;
    this.setStatus('reconnecting');
    this.openStream();
  }

  get currentStatus(): LiveStatus {
    return this.status;
  }

  private setStatus(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.options.onStatus(status);
  }

  private resync(_reason: RefetchReason): void {
    if (this.stopped) return;
    this.setStatus('resyncing');
    this.closeStream();
    void this.loadAndStream();
  }

  private async loadAndStream(): Promise<void> {
    if (this.loading || this.stopped) return;
    this.loading = true;
    try {
      const snapshot = await this.options.fetchSnapshot();
      if (this.stopped) return;
      this.sync.snapshot(snapshot);
      this.openStream();
    } catch {
      if (this.stopped) return;
      this.setStatus('offline');
      this.scheduleRetry(() => void this.loadAndStream());
    } finally {
      this.loading = false;
    }
  }

  private scheduleRetry(fn: () => void): void {
    if (this.retryTimer !== null) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) fn();
    }, this.options.retryMs ?? 3_000);
  }

  private openStream(): void {
    this.closeStream();
    const stream = this.options.openStream(streamUrl(this.options.showId, this.sync.version));
    this.stream = stream;
    this.armWatchdog();
    stream.onopen = () => {
      if (this.stream !== stream) return;
      this.setStatus('live');
      this.armWatchdog();
    };
    stream.onerror = () => {
      if (this.stream !== stream) return;
      this.armWatchdog();
      if (stream.readyState === CLOSED) {
        // the browser gave up (e.g. an HTTP error answer): reopen ourselves, after the applied version
        this.setStatus('offline');
        this.closeStream();
        this.scheduleRetry(() => this.openStream());
      } else {
        this.setStatus('reconnecting');
      }
    };
    stream.addEventListener('change', (event) => {
      if (this.stream !== stream) return;
      const data = parse(event.data) as SeatChangeEvent | null;
      if (!data || typeof data.version !== 'number' || !Array.isArray(data.changes)) return;
      this.heard();
      this.sync.change({ version: data.version, changes: data.changes });
    });
    stream.addEventListener('heartbeat', (event) => {
      if (this.stream !== stream) return;
      const data = parse(event.data) as StreamMark | null;
      this.heard();
      if (data && typeof data.version === 'number') this.sync.expect(data.version);
    });
    stream.addEventListener('reset', () => {
      if (this.stream !== stream) return;
      this.heard();
      this.sync.reset();
    });
  }

  /** The server spoke on the current stream: it is live, and the watchdog starts over. */
  private heard(): void {
    this.setStatus('live');
    this.armWatchdog();
  }

  private armWatchdog(): void {
    this.clearWatchdog();
    if (this.stopped || !this.stream) return;
    this.watchdog = this.timers.setTimeout(() => {
      this.watchdog = null;
      if (this.stopped || !this.stream) return;
      this.reconnect(); // silent for too long: the connection is dead without having said so
    }, this.options.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS);
  }

  private clearWatchdog(): void {
    if (this.watchdog !== null) {
      this.timers.clearTimeout(this.watchdog);
      this.watchdog = null;
    }
  }

  private closeStream(): void {
    this.clearWatchdog();
    if (this.stream) {
      this.stream.onopen = null;
      this.stream.onerror = null;
      this.stream.close();
      this.stream = null;
    }
  }
}

function parse(data: unknown): unknown {
  if (typeof data !== 'string') return null;
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}
