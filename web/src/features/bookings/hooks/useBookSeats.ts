import { useMutation } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { isRetriable, newIdempotencyKey } from '../../../lib/api-client';
import { describeError, describeRetry } from '../../../lib/errors';
import { createBooking } from '../api/bookings';
import type { BookingRequest } from '../../../lib/types';
import { nextAttempt, type BookingAttempt } from '../model/booking-request';

/**
 * Sends booking requests. Each new request gets a fresh Idempotency-Key; the API client retries
 * 429/503/network errors with the same key, and "Try again" after a failure that left the outcome
 * unclear resends the very same request (same key, same body).
 */
export function useBookSeats(showId: string, onBooked: (bookingId: string) => void) {
  const attemptRef = useRef<BookingAttempt | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<{ message: string; retriable: boolean } | null>(null);

  const mutation = useMutation({
    mutationFn: (attempt: BookingAttempt) =>
      createBooking(showId, attempt.body, attempt.key, (n) => setNotice(describeRetry(n))),
  });

  const send = (attempt: BookingAttempt) => {
    attemptRef.current = attempt;
    setError(null);
    setNotice(null);
    mutation.mutate(attempt, {
      onSuccess: (accepted) => {
        attemptRef.current = { ...attempt, outcome: 'accepted' };
        setNotice(null);
        onBooked(accepted.booking_id);
      },
      onError: (err) => {
        const retriable = isRetriable(err);
        attemptRef.current = { ...attempt, outcome: retriable ? 'retriable' : 'refused' };
        setNotice(null);
        setError({ message: describeError(err), retriable });
      },
    });
  };

  return {
    book: (body: BookingRequest) => send(nextAttempt(attemptRef.current, body, newIdempotencyKey)),
    /** Resends the last request with its Idempotency-Key (after an unclear failure). */
    retry: () => {
      const last = attemptRef.current;
      if (last) send({ ...last, outcome: 'pending' });
    },
    pending: mutation.isPending,
    notice,
    error,
    dismiss: () => setError(null),
  };
}
