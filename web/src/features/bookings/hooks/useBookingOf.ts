import { useQueryClient, useQuery } from '@tanstack/react-query';
import type { Booking } from '../../../lib/types';
import { bookingKey } from '../api/bookings';

/** The copy of a booking another component (BookingStatusPanel's useBooking) keeps current: read, not fetched. */
export function useBookingOf(bookingId: string | null): Booking | undefined {
  const queryClient = useQueryClient();
  const query = useQuery<Booking>({
    queryKey: bookingKey(bookingId ?? ''),
    queryFn: () => queryClient.getQueryData<Booking>(bookingKey(bookingId ?? '')) as Booking,
    enabled: false,
  });
  return bookingId ? query.data : undefined;
}
