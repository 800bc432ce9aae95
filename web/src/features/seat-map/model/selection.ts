/** Which seats a person may pick by clicking: available ones only, at most one booking's limit. */
import { bookingLimits } from '../../../lib/limits';
import type { DisplayState } from './seat-map';

/** BookingBody's `seats.maxItems`. */
export const MAX_SELECTED_SEATS = bookingLimits.seats.max;

export type ToggleOutcome = 'added' | 'removed' | 'limit' | 'unavailable';

export interface ToggleResult {
  selected: string[];
  outcome: ToggleOutcome;
}

export function toggleSeat(selected: readonly string[], seatId: string, state: DisplayState | undefined): ToggleResult {
  if (selected.includes(seatId)) {
    return { selected: selected.filter((s) => s !== seatId), outcome: 'removed' };
  }
  if (state !== 'available') return { selected: [...selected], outcome: 'unavailable' };
  if (selected.length >= MAX_SELECTED_SEATS) return { selected: [...selected], outcome: 'limit' };
  return { selected: [...selected, seatId], outcome: 'added' };
}

/** Drops selected seats that someone else took meanwhile (the live map changed under the selection). */
export function pruneSelection(
  selected: readonly string[],
  stateOf: (seatId: string) => DisplayState | undefined,
): { selected: string[]; dropped: string[] } {
  const dropped = selected.filter((s) => stateOf(s) !== 'available');
  if (dropped.length === 0) return { selected: selected as string[], dropped };
  return { selected: selected.filter((s) => !dropped.includes(s)), dropped };
}

export function toggleMessage(outcome: ToggleOutcome, seatLabel: string): string | null {
  switch (outcome) {
    case 'limit':
      return `You can pick at most ${MAX_SELECTED_SEATS} seats for one booking.`;
    case 'unavailable':
      return `${seatLabel}: this seat cannot be picked.`;
    default:
      return null;
  }
}
