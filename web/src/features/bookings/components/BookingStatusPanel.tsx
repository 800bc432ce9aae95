import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { ApiError } from '../../../lib/api-client';
import { describeError } from '../../../lib/errors';
import { seatNames } from '../../../lib/seat-names';
import { myBookingsKey } from '../api/bookings';
import { useBooking } from '../hooks/useBooking';
import { useCountdown } from '../hooks/useCountdown';
import { statusMessage } from '../model/messages';
import { Refused } from './Refused';
import { BookingActions } from './BookingActions';
import { BookingTotal } from './BookingTotal';
import { Countdown } from './Countdown';

/** Follows one booking: RECEIVED (place in line) → PENDING (countdown, confirm/cancel) → outcome. */
export interface BookingStatusPanelProps {
  bookingId: string;
  /** When the show's fair-start draw decides the window's requests (ms since the epoch), if it has one. */
  drawAt?: number | null;
  onClose?: () => void;
}

export function BookingStatusPanel({ bookingId, drawAt = null, onClose }: BookingStatusPanelProps) {
  const [awaiting, setAwaiting] = useState(false);
  const query = useBooking(bookingId, { awaitingChange: awaiting });
  const booking = query.data;
  const left = useCountdown(booking?.status === 'PENDING' ? booking.expires_at : null);
  const queryClient = useQueryClient();
  const missing = query.error instanceof ApiError && query.error.status === 404;
  const drawn = booking?.status === 'RECEIVED' && inDraw(booking.created_at, drawAt);
  // a booking just accepted may not be readable yet: useBooking keeps polling a 404 for ~10 s
  const notYet = missing && query.errorUpdateCount < 20;

  // my seats on the map change with my bookings' statuses
  const status = booking?.status;
  useEffect(() => {
    if (status) void queryClient.invalidateQueries({ queryKey: myBookingsKey });
  }, [status, queryClient]);
  // A booking just made: keyboard focus goes to its panel (not back to the top of the page).
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, [bookingId]);

  return (
    <section className="panel booking-panel" aria-labelledby="booking-heading" data-testid="booking-panel">
      <h2 id="booking-heading" ref={heading} tabIndex={-1}>
        Your booking
      </h2>
      {!booking && query.isPending && <p role="status">Sending your request…</p>}
      {!booking && query.error && (
        <p className={notYet ? 'muted' : 'error'} role="status" data-testid="booking-message">
          {notYet
            ? 'Waiting for the booking to appear…'
            : missing
              ? 'This booking was not found (it may belong to another account).'
              : describeError(query.error)}
        </p>
      )}
      {booking && (
        <>
          <p>
            Status:{' '}
            <strong data-testid="booking-status" data-status={booking.status}>
              {booking.status}
            </strong>{' '}
            <span className="muted">({booking.booking_id})</span>
          </p>
          <p data-testid="booking-message" role="status" aria-live="polite">
            {drawn ? 'Request received: it waits for the fair-start draw.' : statusMessage(booking)}
          </p>
          <Refused refused={booking.refused} />
          {drawn && (
            <p className="notice" data-testid="fair-start-draw">
              Your request is in the fair-start draw: every request of the sale&apos;s first seconds is decided in a
              random order at {new Date(drawAt as number).toLocaleTimeString()}, so there is nothing to gain by
              asking again.
            </p>
          )}
          {booking.status === 'RECEIVED' && !drawn && (
            <p data-testid="queue-position" data-position={booking.queue_position ?? ''}>
              {booking.queue_position != null ? 'Place in line: ' : ''}
              {booking.queue_position != null &&
                `${booking.queue_position} ahead of you${
                  booking.estimated_wait_s != null ? `, about ${Math.max(1, Math.round(booking.estimated_wait_s))} s` : ''
                }`}
            </p>
          )}
          {booking.seats.length > 0 && (
            <p>
              Seats: <span data-testid="booking-seats">{seatNames(booking.seats)}</span>
            </p>
          )}
          <BookingTotal booking={booking} />
          {booking.status === 'PENDING' && <Countdown expiresAt={booking.expires_at} />}
          <BookingActions
            key={booking.booking_id}
            bookingId={booking.booking_id}
            status={booking.status}
            booking={booking}
            holdOpen={booking.status !== 'PENDING' || left === null || left > 0}
            refusedAt={booking.refused?.at ?? null}
            onAwaitingChange={setAwaiting}
          />
        </>
      )}
      {onClose && booking && !['RECEIVED', 'PENDING'].includes(booking.status) && (
        <button type="button" className="link" onClick={onClose} data-testid="booking-close">
          Book more seats
        </button>
      )}
    </section>
  );
}

/** A request accepted before the draw waits for it (the server decides it then, not in arrival order). */
function inDraw(acceptedAt: string, drawAt: number | null): boolean {
  return drawAt !== null && Date.parse(acceptedAt) < drawAt;
}
