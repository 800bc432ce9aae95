import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { listMyBookings, myBookingsKey } from '../api/bookings';
import { isLive } from '../model/messages';

const NONE: string[] = [];

/**
 * Seat ids of my PENDING or CONFIRMED bookings of a show, so the map can show them as "mine".
 * Reads the newest 200 of my bookings (one page); refreshed when a booking of mine changes status.
 */
export function useMyLiveSeats(showId: string, signedIn: boolean): string[] {
  const query = useQuery({
    queryKey: [...myBookingsKey, 'recent'],
    queryFn: ({ signal }) => listMyBookings(undefined, 200, signal),
    enabled: signedIn,
    staleTime: 2_000,
    refetchInterval: 15_000,
  });
  const data = query.data;
  return useMemo(() => {
    if (!data) return NONE;
    return data.bookings.filter((b) => b.show_id === showId && isLive(b.status)).flatMap((b) => b.seats);
  }, [data, showId]);
}
