import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError } from '../../../lib/api-client';
import type { Booking } from '../../../lib/types';
import { BOOKING_WAIT_S, bookingKey, getBooking } from '../api/bookings';
import { receivedPollMs } from '../model/polling';

/** The ETag each booking copy came with (the copy is kept as is on a 304, so its tag stays with it). */
const tags = new WeakMap<Booking, string>();
/** How soon the next read of a waited booking starts after the last answer (the wait is in the request). */
const WAITED_AGAIN_MS = 100;

/**
 * A booking's status while something is expected to happen (RECEIVED: the decision; PENDING: the hold's end;
 * just after a confirm/cancel we sent: its outcome), read with `Prefer: wait` on the copy's ETag: the server
 * holds each read open until the booking changes (up to 25 s), so the client learns of the change at once
 * and asks about once per change. Not read at all once settled. Before the first copy (a booking just
 * accepted may not be readable yet) and if the server does not wait (no ETag), plain reads paced as before:
 * RECEIVED by the server's estimate (0.5–5 s), 0.5 s after our own change, 2 s while PENDING.
 */
export function useBooking(bookingId: string | null, options: { awaitingChange?: boolean } = {}) {
  const queryClient = useQueryClient();
  const waited = (booking: Booking | undefined) =>
    booking !== undefined &&
    tags.has(booking) &&
    (options.awaitingChange || booking.status === 'RECEIVED' || booking.status === 'PENDING');
  return useQuery<Booking, Error>({
    queryKey: bookingKey(bookingId ?? ''),
    queryFn: async ({ signal }) => {
      const held = queryClient.getQueryData<Booking>(bookingKey(bookingId as string));
      const etag = held ? tags.get(held) : undefined;
      const answer = await getBooking(bookingId as string, signal, etag, waited(held) ? BOOKING_WAIT_S : undefined);
      if (answer.notModified) {
        if (held) return held; // still current: the same copy, with its tag
        throw new Error('304 for a booking read without a tag'); // cannot happen: no tag, no If-None-Match
      }
      if (answer.etag) tags.set(answer.data, answer.etag);
      return answer.data;
    },
    enabled: Boolean(bookingId),
    staleTime: 0,
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      const error = query.state.error;
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return false;
      // just accepted: the status read model may not know it yet
      if (!status) return query.state.errorUpdateCount < 20 ? 500 : false;
      if (waited(query.state.data)) return WAITED_AGAIN_MS;
      if (options.awaitingChange) return 500;
      if (status === 'RECEIVED') return receivedPollMs(query.state.data?.estimated_wait_s);
      if (status === 'PENDING') return 2_000;
      return false;
    },
    retry: false,
  });
}
