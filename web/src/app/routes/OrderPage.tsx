import { useParams, useSearchParams } from 'react-router';
import { usePageTitle } from '../../components/PageTitle';
import { SignInForm, useSession } from '../../features/auth';
import { BookingStatusPanel } from '../../features/bookings';
import { useBookingOf } from '../../features/bookings/hooks/useBookingOf';
import { ShowSummary } from '../../features/shows';
import { Tickets } from '../../features/tickets';

/** One booking as an order: the show, the seats, the total and payment, and once confirmed its tickets. */
export function OrderPage() {
  const { bookingId = '' } = useParams();
  const [search] = useSearchParams();
  const session = useSession();
  const booking = useBookingOf(session ? bookingId : null);
  usePageTitle('Your order');
  if (!session) {
    return (
      <>
        <h1>Your order</h1>
        <p>Sign in to see this order.</p>
        <SignInForm />
      </>
    );
  }
  return (
    <>
      <h1>Your order</h1>
      {booking && (
        <p data-testid="order-show">
          <ShowSummary showId={booking.show_id} />
        </p>
      )}
      {search.get('paid') === '1' && booking?.status === 'PENDING' && (
        <p className="notice" role="status" data-testid="payment-arriving">
          Payment taken by the provider: confirming your booking…
        </p>
      )}
      <BookingStatusPanel bookingId={bookingId} />
      {booking && <Tickets bookingId={booking.booking_id} status={booking.status} />}
    </>
  );
}
