import { useEffect, useState } from 'react';
import { formatCountdown } from '../../../lib/countdown';

export { formatCountdown };

/** Whole seconds left until `expiresAt` (0 once past), or null without a deadline. */
export function secondsLeft(expiresAt: string | null | undefined, nowMs: number): number | null {
  if (!expiresAt) return null;
  const deadline = Date.parse(expiresAt);
  if (Number.isNaN(deadline)) return null;
  return Math.max(0, Math.ceil((deadline - nowMs) / 1000));
}

/** A live countdown to `expiresAt`, ticking while there is time left. */
export function useCountdown(expiresAt: string | null | undefined, tickMs = 250): number | null {
  const [now, setNow] = useState(() => Date.now());
  const left = secondsLeft(expiresAt, now);
  useEffect(() => {
    if (!expiresAt) return;
    setNow(Date.now());
    const timer = setInterval(() => {
      const t = Date.now();
      setNow(t);
      if (secondsLeft(expiresAt, t) === 0) clearInterval(timer);
    }, tickMs);
    return () => clearInterval(timer);
  }, [expiresAt, tickMs]);
  return left;
}
