import { useEffect, useState } from 'react';
import type { Show } from '../../../lib/types';
import { salePhase, type SalePhase } from '../model/sale';

/** The show's sale phase, re-read every second while it is counting down (before the opening, in the window). */
export function useSalePhase(show: Show, tickMs = 1_000): SalePhase {
  const [now, setNow] = useState(() => Date.now());
  const phase = salePhase(show, now);
  const ticking = phase.kind === 'before' || phase.kind === 'fair-start';
  useEffect(() => {
    if (!ticking) return;
    const timer = setInterval(() => setNow(Date.now()), tickMs);
    return () => clearInterval(timer);
  }, [ticking, tickMs]);
  // An open sale changes once more, at its close: one timer for that moment (if it is within a day).
  const closesAt = phase.kind === 'open' ? phase.closesAt : null;
  useEffect(() => {
    if (closesAt === null) return;
    const wait = closesAt - Date.now();
    if (wait > 86_400_000) return;
    const timer = setTimeout(() => setNow(Date.now()), Math.max(0, wait) + 50);
    return () => clearTimeout(timer);
  }, [closesAt]);
  return phase;
}
