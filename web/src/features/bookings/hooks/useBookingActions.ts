import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { describeError, describeRetry } from '../../../lib/errors';
import { bookingKey, cancelBooking, confirmBooking, extendBooking, myBookingsKey } from '../api/bookings';

/** Confirm, cancel and extend; after the 202 the caller waits for the booking to change. */
export function useBookingActions(bookingId: string) {
  const queryClient = useQueryClient();
  const [notice, setNotice] = useState<string | null>(null);
  const settle = () => {
    setNotice(null);
    void queryClient.invalidateQueries({ queryKey: bookingKey(bookingId) });
    void queryClient.invalidateQueries({ queryKey: myBookingsKey });
  };
  const confirm = useMutation({
    mutationFn: (paymentReference: string) => confirmBooking(bookingId, paymentReference, (n) => setNotice(describeRetry(n))),
    onSettled: settle,
  });
  const cancel = useMutation({
    mutationFn: () => cancelBooking(bookingId, (n) => setNotice(describeRetry(n))),
    onSettled: settle,
  });
  const extend = useMutation({
    mutationFn: () => extendBooking(bookingId, (n) => setNotice(describeRetry(n))),
    onSettled: settle,
  });
  const error = confirm.error ?? cancel.error ?? extend.error;
  return {
    confirm,
    cancel,
    extend,
    notice,
    error: error ? describeError(error) : null,
    /** A confirm or cancel was accepted: its effect is on its way. */
    awaiting: confirm.isSuccess || cancel.isSuccess,
    reset: () => {
      confirm.reset();
      cancel.reset();
      extend.reset();
    },
  };
}
