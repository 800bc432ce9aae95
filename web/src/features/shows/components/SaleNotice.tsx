import { formatCountdown } from '../../../lib/countdown';
import type { SalePhase } from '../model/sale';

/** The sale's state above the map: a countdown to the opening, the fair start's promise, or the close. */
export function SaleNotice({ phase }: { phase: SalePhase }) {
  if (phase.kind === 'before') {
    return (
      <p className="notice" role="status" data-testid="sale-notice" data-phase="before">
        Sales open in <strong>{formatCountdown(phase.secondsToOpen)}</strong> (at{' '}
        {new Date(phase.opensAt).toLocaleString()}).
        {phase.fairStartS > 0 &&
          ` Fair start: every request made in the first ${phase.fairStartS} s is drawn in a random order, so there is no need to hurry.`}
      </p>
    );
  }
  if (phase.kind === 'fair-start') {
    return (
      <p className="notice" role="status" data-testid="sale-notice" data-phase="fair-start">
        Fair start: requests made now are drawn in a random order in{' '}
        <strong>{formatCountdown(phase.secondsToDraw)}</strong>; being first does not matter.
      </p>
    );
  }
  if (phase.kind === 'cancelled') {
    return (
      <p className="error" role="status" data-testid="sale-notice" data-phase="cancelled">
        This show was cancelled. Every booking of it was cancelled and its customer told.
      </p>
    );
  }
  if (phase.kind === 'closed') {
    return (
      <p className="notice" role="status" data-testid="sale-notice" data-phase="closed">
        Sales for this show are closed.
      </p>
    );
  }
  return null;
}
