import { useQuery } from '@tanstack/react-query';
import { ApiError } from '../../../lib/api-client';
import type { Booking } from '../../../lib/types';
import { bookingKey, getBooking } from '../api/bookings';
import { receivedPollMs } from '../model/polling';

/**
 * A booking's status, polled while something is expected to happen: while RECEIVED paced by the server's
 * estimated wait (0.5–5 s), fast right after a confirm/cancel we sent, slower while PENDING (to see it
 * expire), not at all once settled.
 */
export function useBooking(bookingId: string | null, options: { awaitingChange?: boolean } = {}) {
  return useQuery<Booking, Error>({
    queryKey: bookingKey(bookingId ?? ''),
    queryFn: ({ signal }) => getBooking(bookingId as string, signal),
    enabled: Boolean(bookingId),
    staleTime: 0,
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      const error = query.state.error;
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return false;
      // just accepted: the status read model may not know it yet
      if (!status) return query.state.errorUpdateCount < 20 ? 500 : false;
      if (options.awaitingChange) return 500;
      if (status === 'RECEIVED') return receivedPollMs(query.state.data?.estimated_wait_s);
      if (status === 'PENDING') return 2_000;
      return false;
    },
    retry: false,
  });
}
