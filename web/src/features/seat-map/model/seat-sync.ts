/**
 * SeatSync applies a show's streamed changes to a SeatMap strictly in version order.
 *
 * - A change whose version is already applied is a duplicate (EventSource resends after a reconnect):
 *   ignored.
 * - The next version (applied + 1) is applied at once, then any buffered successors.
 * - A later version is buffered; if the gap is not filled within `gapTimeoutMs` (or the buffer overflows)
 *   the sync asks for a refetch of /seats. A `reset` event asks for one at once.
 * - A snapshot replaces every seat's state and its version becomes the applied one; buffered changes
 *   after it are then applied if they follow on.
 * - `expect(version)` (the stream's heartbeat: the version the server has sent up to) arms the same gap
 *   timer when the applied version is behind it: changes the server sent but we never saw (a proxy that
 *   dropped them, a tab that slept) cost at most one gap timeout, then a refetch.
 */
import type { SeatChangeEvent } from '../../../lib/types';
import type { SeatMap, SeatSnapshot } from './seat-map';

/** What the sync needs of a stream's `change` event (ShowChange). */
export type VersionedChange = Pick<SeatChangeEvent, 'version' | 'changes'>;

export type RefetchReason = 'gap' | 'reset' | 'overflow' | 'behind';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SeatSyncOptions {
  /** Seat indices whose state changed ('all' after a snapshot; may be empty: only the version moved). */
  onApplied(changed: number[] | 'all'): void;
  onRefetch(reason: RefetchReason): void;
  gapTimeoutMs?: number;
  maxBuffered?: number;
  timers?: Timers;
}

export type ChangeOutcome = 'applied' | 'duplicate' | 'buffered';

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class SeatSync {
  private readonly buffer = new Map<number, VersionedChange>();
  private gapTimer: unknown = null;
  private refetchPending = false;
  /** The highest version a heartbeat said the server has sent (-1: none). */
  private expected = -1;
  private readonly gapTimeoutMs: number;
  private readonly maxBuffered: number;
  private readonly timers: Timers;

  constructor(
    private readonly map: SeatMap,
    private readonly options: SeatSyncOptions,
  ) {
    this.gapTimeoutMs = options.gapTimeoutMs ?? 2_000;
    this.maxBuffered = options.maxBuffered ?? 1_000;
    this.timers = options.timers ?? defaultTimers;
  }

  get version(): number {
    return this.map.version;
  }

  get buffered(): number {
    return this.buffer.size;
  }

  /** True between a refetch request and the snapshot that answers it. */
  get awaitingSnapshot(): boolean {
    return this.refetchPending;
  }

  snapshot(snapshot: SeatSnapshot): void {
    this.map.loadSnapshot(snapshot);
    this.refetchPending = false;
    for (const version of [...this.buffer.keys()]) {
      if (version <= snapshot.version) this.buffer.delete(version);
    }
    this.options.onApplied('all');
    this.drain();
  }

  change(change: VersionedChange): ChangeOutcome {
    if (!Number.isInteger(change.version)) return 'duplicate';
    if (change.version <= this.map.version) return 'duplicate';
    if (change.version === this.map.version + 1 && this.map.version >= 0) {
      this.apply(change);
      this.drain();
      return 'applied';
    }
    this.buffer.set(change.version, change);
    if (this.buffer.size > this.maxBuffered) {
      this.requestRefetch('overflow');
    } else {
      this.armGapTimer();
    }
    return 'buffered';
  }

  reset(): void {
    this.requestRefetch('reset');
  }

  /** The server says it has sent every change through `version`: if we are behind, wait a gap timeout. */
  expect(version: number): void {
    if (!Number.isInteger(version) || version <= this.map.version || this.map.version < 0) return;
    this.expected = Math.max(this.expected, version);
    this.armGapTimer();
  }

  private get behind(): boolean {
    return this.buffer.size > 0 || this.expected > this.map.version;
  }

  dispose(): void {
    this.clearGapTimer();
    this.buffer.clear();
    this.expected = -1;
  }

  private apply(change: VersionedChange): void {
    const changed = this.map.applyChanges(change.changes);
    this.map.version = change.version;
    // also when no seat changed: the version moved (a show's creation, version 0 → 1, changes no seat)
    this.options.onApplied(changed);
  }

  private drain(): void {
    if (this.map.version < 0) return;
    for (let next = this.buffer.get(this.map.version + 1); next; next = this.buffer.get(this.map.version + 1)) {
      this.buffer.delete(next.version);
      this.apply(next);
    }
    if (!this.behind) this.clearGapTimer();
    else this.armGapTimer(true);
  }

  private armGapTimer(restart = false): void {
    if (this.refetchPending) return;
    if (this.gapTimer !== null) {
      if (!restart) return;
      this.clearGapTimer();
    }
    this.gapTimer = this.timers.setTimeout(() => {
      this.gapTimer = null;
      if (this.buffer.size > 0) this.requestRefetch('gap');
      else if (this.expected > this.map.version) this.requestRefetch('behind');
    }, this.gapTimeoutMs);
  }

  private clearGapTimer(): void {
    if (this.gapTimer !== null) {
      this.timers.clearTimeout(this.gapTimer);
      this.gapTimer = null;
    }
  }

  private requestRefetch(reason: RefetchReason): void {
    this.clearGapTimer();
    if (this.refetchPending) return;
    this.refetchPending = true;
    this.options.onRefetch(reason);
  }
}
