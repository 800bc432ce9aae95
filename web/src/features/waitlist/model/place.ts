/** What a place on the waiting list means to the person holding it, in words. */
import type { WaitlistPlace } from '../../../lib/types';

export const REFUSAL_MESSAGES: Record<string, string> = {
  seats_available: 'Seats are free right now, so there is no need to wait: book them instead.',
  sale_not_open: 'Sales have not opened yet, so the waiting list is not open either.',
  sale_closed: 'Sales for this show have closed.',
  customer_limit: 'You already hold as many seats of this show as one customer may.',
  invalid_seat: 'That section is not part of this venue.',
};

/** Whether the place is still waiting for something to happen (the page keeps reading it). */
export const isActive = (place: WaitlistPlace | null | undefined) =>
  place?.status === 'RECEIVED' || place?.status === 'WAITING';

export function placeMessage(place: WaitlistPlace): string {
  const seats = `${place.quantity} seat${place.quantity === 1 ? '' : 's'}${place.section ? ` in section ${place.section}` : ''}`;
  switch (place.status) {
    case 'RECEIVED':
      return `Joining the waiting list for ${seats}…`;
    case 'WAITING':
      return place.position != null
        ? `You are number ${place.position} of ${place.waiting ?? place.position} on the waiting list for ${seats}. When seats are released you will be offered them and get an email.`
        : `You are on the waiting list for ${seats}.`;
    case 'OFFERED':
      return `Seats were released and are held for you from the waiting list (${seats}). Confirm them before the hold runs out.`;
    case 'LEFT':
      return 'You left the waiting list.';
    case 'REFUSED':
      return REFUSAL_MESSAGES[place.reason ?? ''] ?? `You could not join the waiting list (${place.reason}).`;
    default:
      return '';
  }
}
