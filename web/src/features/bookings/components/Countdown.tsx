import { formatCountdown, useCountdown } from '../hooks/useCountdown';

/** From here the countdown warns (colour), and screen readers hear it at these thresholds. */
export const LOW_S = 30;
const ANNOUNCE_AT = [60, 30, 10];

/**
 * "Held for 1:05" until `expiresAt`. Not a live region (it would talk every second): a separate polite one
 * says the time left as it crosses a minute, 30 and 10 seconds, and the line turns to a warning below LOW_S.
 */
export function Countdown({ expiresAt }: { expiresAt: string | null }) {
  const left = useCountdown(expiresAt);
  if (left === null) return null;
  const low = left > 0 && left <= LOW_S;
  const said = ANNOUNCE_AT.find((t) => left <= t && left > t - 5);
  return (
    <>
    <p className="visually-hidden" role="status" aria-live="polite" data-testid="hold-announcement">
      {said !== undefined && left > 0 ? `Your hold ends in ${said < 60 ? `${said} seconds` : 'one minute'}.` : ''}
    </p>
    <p
      className={low ? 'countdown countdown-low' : 'countdown'}
      data-testid="hold-countdown"
      data-seconds-left={left}
      data-low={low}
    >
      {left > 0 ? (
        <>
          Held for <strong>{formatCountdown(left)}</strong> more (until{' '}
          {new Date(expiresAt as string).toLocaleTimeString()}).
        </>
      ) : (
        <>Hold time is up: waiting for the server to release or confirm the seats.</>
      )}
      {low && <strong> Pay now: the seats go back on sale soon.</strong>}
    </p>
    </>
  );
}
