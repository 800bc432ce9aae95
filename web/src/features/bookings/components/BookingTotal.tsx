import { formatMoney } from '../../../lib/money';
import type { Booking } from '../../../lib/types';

/** What the booking's seats cost, in the show's currency; nothing until seats are assigned (RECEIVED). */
export function BookingTotal({ booking }: { booking: Pick<Booking, 'total' | 'currency'> }) {
  if (booking.total == null || !booking.currency) return null;
  return (
    <p className="booking-total" data-testid="booking-total" data-total={booking.total}>
      Total: <strong>{formatMoney(booking.total, booking.currency)}</strong>
    </p>
  );
}
