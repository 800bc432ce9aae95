import { useEffect, useState } from 'react';

/** Whole seconds left until `expiresAt` (0 once past), or null without a deadline. */
export function secondsLeft(expiresAt: string | null | undefined, nowMs: number): number | null {
  if (!expiresAt) return null;
  const deadline = Date.parse(expiresAt);
  if (Number.isNaN(deadline)) return null;
  return Math.max(0, Math.ceil((deadline - nowMs) / 1000));
}

/** 125 → "2:05"; 3725 → "1:02:05". */
export function formatCountdown(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
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
