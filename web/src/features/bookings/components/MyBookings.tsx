import { useInfiniteQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { describeError } from '../../../lib/errors';
import { seatNames } from '../../../lib/seat-names';
import type { Booking } from '../../../lib/types';
import { listMyBookings, myBookingsKey } from '../api/bookings';
import { statusMessage } from '../model/messages';
import { BookingActions } from './BookingActions';
import { BookingTotal } from './BookingTotal';
import { Countdown } from './Countdown';
import { Refused } from './Refused';

const PAGE = 20;

/** How a booking's show reads in the list (its title, venue and date, composed in app/); the id when absent. */
export type ShowLabel = (showId: string) => ReactNode;

/** My bookings, newest first, a page at a time; confirm/cancel where the status allows it. */
export function MyBookings({ showLabel = (id) => id }: { showLabel?: ShowLabel }) {
  const [awaiting, setAwaiting] = useState(0);
  const query = useInfiniteQuery({
    queryKey: [...myBookingsKey, 'list'],
    queryFn: ({ pageParam, signal }) => listMyBookings(pageParam, PAGE, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor || undefined,
    refetchInterval: (q) => {
      const open = q.state.data?.pages.some((p) => p.bookings.some((b) => b.status === 'RECEIVED' || b.status === 'PENDING'));
      return awaiting > 0 ? 1_000 : open ? 3_000 : false;
    },
  });

  if (query.isPending) return <p role="status">Loading your bookings…</p>;
  if (query.isError) return <p className="error" role="alert">{describeError(query.error)}</p>;
  const bookings = query.data.pages.flatMap((p) => p.bookings);
  if (bookings.length === 0) {
    return (
      <p data-testid="no-bookings">
        You have no bookings yet. <Link to="/">Find a show</Link>.
      </p>
    );
  }
  const track = (on: boolean) => setAwaiting((n) => Math.max(0, n + (on ? 1 : -1)));
  return (
    <>
      <ul className="booking-list" data-testid="my-bookings">
        {bookings.map((b) => (
          <BookingRow key={b.booking_id} booking={b} showLabel={showLabel} onAwaitingChange={track} />
        ))}
      </ul>
      {query.hasNextPage && (
        <button
          type="button"
          onClick={() => void query.fetchNextPage()}
          disabled={query.isFetchingNextPage}
          data-testid="load-more-bookings"
        >
          {query.isFetchingNextPage ? 'Loading…' : 'Load more bookings'}
        </button>
      )}
    </>
  );
}

interface BookingRowProps {
  booking: Booking;
  showLabel: ShowLabel;
  onAwaitingChange: (on: boolean) => void;
}

function BookingRow({ booking, showLabel, onAwaitingChange }: BookingRowProps) {
  const [awaiting, setAwaiting] = useState(false);
  const onChange = (on: boolean) => {
    if (on !== awaiting) {
      setAwaiting(on);
      onAwaitingChange(on);
    }
  };
  return (
    <li className="booking-row" data-testid="booking-row" data-booking-id={booking.booking_id} data-status={booking.status}>
      <div>
        <strong data-testid="booking-status" data-status={booking.status}>
          {booking.status}
        </strong>{' '}
        <Link to={`/shows/${encodeURIComponent(booking.show_id)}?booking=${encodeURIComponent(booking.booking_id)}`}>
          {showLabel(booking.show_id)}
        </Link>{' '}
        <span className="muted">
          {booking.booking_id} · {new Date(booking.created_at).toLocaleString()}
        </span>
      </div>
      {booking.seats.length > 0 && <div data-testid="booking-seats">Seats: {seatNames(booking.seats)}</div>}
      <Link to={`/me/bookings/${encodeURIComponent(booking.booking_id)}`} data-testid="order-link">
        {booking.status === 'CONFIRMED' ? 'Tickets and order' : 'Order'}
      </Link>
      <BookingTotal booking={booking} />
      <div className="muted">{statusMessage(booking)}</div>
      <Refused refused={booking.refused} />
      {booking.status === 'PENDING' && <Countdown expiresAt={booking.expires_at} />}
      <BookingActions
        bookingId={booking.booking_id}
        status={booking.status}
        booking={booking}
        refusedAt={booking.refused?.at ?? null}
        onAwaitingChange={onChange}
      />
    </li>
  );
}
