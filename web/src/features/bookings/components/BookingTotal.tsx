import { formatMoney } from '../../../lib/money';
import type { Booking, Payment } from '../../../lib/types';

const PAYMENT: Record<Payment['status'], string> = {
  open: 'Payment started at the provider, not completed yet.',
  paid: 'Paid',
  void_requested: 'The unpaid checkout is being cancelled at the provider.',
  refund_requested: 'Refund on its way',
  refunded: 'Refunded',
};

/** What the booking's seats cost, in the show's currency (nothing until seats are assigned: RECEIVED), and
 * where its payment stands. */
export function BookingTotal({ booking }: { booking: Pick<Booking, 'total' | 'currency' | 'payment'> }) {
  if (booking.total == null || !booking.currency) return null;
  const p = booking.payment;
  const amount = p ? formatMoney(p.status.startsWith('refund') ? (p.refund_amount ?? 0) : p.amount, p.currency) : '';
  return (
    <>
      <p className="booking-total" data-testid="booking-total" data-total={booking.total}>
        Total: <strong>{formatMoney(booking.total, booking.currency)}</strong>
      </p>
      {p && (
        <p data-testid="booking-payment" data-payment-status={p.status}>
          {p.status === 'open' || p.status === 'void_requested' ? PAYMENT[p.status] : `${PAYMENT[p.status]}: ${amount}`}
        </p>
      )}
    </>
  );
}
