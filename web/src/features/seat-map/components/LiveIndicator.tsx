import type { LiveStatus } from '../model/live-seat-map';

const TEXT: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  resyncing: 'Catching up…',
  offline: 'Offline, retrying…',
};

/** "Live" when the change stream is open; the dot's shape changes too (● live, ○ otherwise). */
export function LiveIndicator({ status }: { status: LiveStatus }) {
  return (
    <span className={`live-indicator live-${status}`} role="status" data-testid="live-status" data-status={status}>
      <span aria-hidden="true">{status === 'live' ? '●' : '○'}</span> {TEXT[status]}
    </span>
  );
}
