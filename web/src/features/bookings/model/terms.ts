import { formatMoney } from '../../../lib/money';
import type { Booking, Show } from '../../../lib/types';

export interface CancelTerms {
  /** False when the show's terms no longer allow cancelling this booking (or never did). */
  allowed: boolean;
  /** What cancelling means for the customer, in a sentence. */
  text: string;
}

/**
 * What the customer gets back when cancelling, by the show's terms (schemas/api.py CreateShowBody): a held
 * booking costs nothing; a CONFIRMED one may be cancelled until `cancellable_until_hours` before the start
 * (null: never), and `refund_percent` of what was paid is refunded to the card, rounded down as the server does.
 */
export function cancelTerms(booking: Booking, show: Show | undefined, now = Date.now()): CancelTerms {
  if (booking.status === 'PENDING') return { allowed: true, text: 'Your seats go back on sale. Nothing was paid.' };
  if (!show) return { allowed: true, text: 'A refund follows the show’s cancellation terms.' };
  const hours = show.cancellable_until_hours;
  if (hours === null || hours === undefined) {
    return { allowed: false, text: 'Tickets for this show cannot be cancelled or refunded.' };
  }
  const deadline = Date.parse(show.starts_at) - hours * 3_600_000;
  if (now >= deadline) {
    return { allowed: false, text: `Cancellation closed on ${new Date(deadline).toLocaleString()} (the show’s terms).` };
  }
  const payment = booking.payment;
  const percent = show.refund_percent ?? 100;
  if (!payment || payment.status !== 'paid') {
    return { allowed: true, text: 'Your seats go back on sale.' };
  }
  const back = Math.floor((payment.amount * percent) / 100);
  const paid = formatMoney(payment.amount, payment.currency);
  return {
    allowed: true,
    text:
      back > 0
        ? `You get back ${formatMoney(back, payment.currency)}${percent < 100 ? ` (${percent}% of ${paid})` : ''} to the card you paid with.`
        : `Nothing is refunded (this show refunds ${percent}% of ${paid}).`,
  };
}
