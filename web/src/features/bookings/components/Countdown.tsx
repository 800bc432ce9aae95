import { formatCountdown, useCountdown } from '../hooks/useCountdown';

/** "Held for 1:05" until `expiresAt`; announces nothing every second (not a live region). */
export function Countdown({ expiresAt }: { expiresAt: string | null }) {
  const left = useCountdown(expiresAt);
  if (left === null) return null;
  return (
    <p className="countdown" data-testid="hold-countdown" data-seconds-left={left}>
      {left > 0 ? (
        <>
          Held for <strong>{formatCountdown(left)}</strong> more (until{' '}
          {new Date(expiresAt as string).toLocaleTimeString()}).
        </>
      ) : (
        <>Hold time is up: waiting for the server to release or confirm the seats.</>
      )}
    </p>
  );
}
