/** Human words for booking statuses and rejection reasons. */
import { bookingLimits } from '../../../lib/limits';
import type { Booking, BookingStatus, Refusal } from '../../../lib/types';

export const REASON_MESSAGES: Record<string, string> = {
  seat_unavailable:
    'Someone else got one or more of these seats just before you. Please pick other seats and try again.',
  sold_out: 'There are not enough free seats left for this request. Try fewer seats, or another show.',
  show_not_found: 'This show does not exist (any more), so nothing could be booked.',
  invalid_seat: 'One of the seats is not part of this venue. Please pick seats on the map.',
  too_many_seats: `One booking can hold at most ${bookingLimits.seats.max} seats. Please pick fewer.`,
  invalid_request:
    'The booking system could not process this request. Nothing was booked. Please try again; if it keeps failing, contact us.',
  hold_expired:
    'Your hold ran out before the payment was confirmed, so the seats were released. Please book again.',
  customer_limit:
    'You already hold as many seats of this show as one customer may. Confirm or cancel a booking, or ask for fewer seats.',
  sale_closed: 'Sales for this show have closed, so it is no longer on sale.',
  sale_not_open: 'Sales for this show had not opened yet when this request arrived. Please book again once they open.',
};

export function reasonMessage(reason: string | null | undefined): string | null {
  if (!reason) return null;
  return REASON_MESSAGES[reason] ?? `The booking was not made (${reason}).`;
}

/** Why a confirm or cancel could not be applied (`booking_<status>`: the booking was already in that status). */
const REFUSAL_REASONS: Record<string, string> = {
  booking_received: 'the booking was still waiting in line',
  booking_rejected: 'the booking had been rejected',
  booking_expired: 'the hold had already run out and the seats were released',
  booking_cancelled: 'the booking had already been cancelled',
  booking_confirmed: 'the booking was already confirmed',
  invalid_request: 'the booking system could not process the request',
  extension_limit: 'the hold has been extended as many times as this show allows',
  sale_closed: 'the sale closes before any more time could be added',
};

/** A booking's `refused`: the last confirm or cancel that could not be applied, in words. */
export function refusalMessage(refused: Refusal | null | undefined): string | null {
  if (!refused) return null;
  const what =
    refused.action === 'confirm'
      ? 'Your confirmation'
      : refused.action === 'extend'
        ? 'Your request for more time'
        : 'Your cancellation';
  const why = REFUSAL_REASONS[refused.reason] ?? `it was refused (${refused.reason})`;
  return `${what} could not be applied: ${why}.`;
}

export function queueMessage(position: number | null | undefined, waitS: number | null | undefined): string {
  const wait = waitS == null ? '' : `, about ${Math.max(1, Math.round(waitS))} s`;
  if (position == null) return 'Your request is in line.';
  if (position <= 0) return `You are next${wait}.`;
  return `${position} ahead of you${wait}.`;
}

export function statusMessage(
  booking: Pick<Booking, 'status' | 'reason' | 'queue_position' | 'estimated_wait_s'> & Partial<Pick<Booking, 'sale_opens_at'>>,
) {
  const opens = booking.sale_opens_at ? ` Sales open at ${new Date(booking.sale_opens_at).toLocaleString()}.` : '';
  const messages: Record<BookingStatus, string> = {
    RECEIVED: `Request received and waiting in line. ${queueMessage(booking.queue_position, booking.estimated_wait_s)}`,
    PENDING: 'Your seats are held for you. Confirm with your payment reference before the hold runs out.',
    CONFIRMED: 'Booked: your seats are confirmed.',
    REJECTED: (reasonMessage(booking.reason) ?? 'The booking was not made.') + opens,
    EXPIRED: reasonMessage(booking.reason ?? 'hold_expired') ?? 'Your hold ran out.',
    CANCELLED: 'This booking was cancelled and its seats released.',
  };
  return messages[booking.status];
}

export const canConfirm = (status: BookingStatus) => status === 'PENDING';
export const canCancel = (status: BookingStatus) => status === 'PENDING' || status === 'CONFIRMED';
export const isLive = (status: BookingStatus) => status === 'PENDING' || status === 'CONFIRMED';
export const isSettled = (status: BookingStatus) =>
  status === 'REJECTED' || status === 'EXPIRED' || status === 'CANCELLED';
