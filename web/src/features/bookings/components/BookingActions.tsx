import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { describeError } from '../../../lib/errors';
import { formatMoney } from '../../../lib/money';
import type { Booking, BookingStatus } from '../../../lib/types';
import { getShowOf, startCheckout } from '../api/bookings';
import { useBookingActions } from '../hooks/useBookingActions';
import { canCancel, canConfirm } from '../model/messages';
import { cancelTerms } from '../model/terms';

export interface BookingActionsProps {
  bookingId: string;
  status: BookingStatus;
  /** The booking itself, when the caller has it: its total (what Pay charges) and its payment. */
  booking?: Booking;
  /** False once the hold's time is up (paying then could only be refunded). */
  holdOpen?: boolean;
  /** `refused.at` of the booking: a new value means our confirm/cancel was refused (the status stays). */
  refusedAt?: string | null;
  onAwaitingChange?: (awaiting: boolean) => void;
}

/**
 * While PENDING: Pay (a checkout at the payment provider: the booking is confirmed by the provider's signed
 * webhook, never by anything typed here; free seats are confirmed directly) and Extend hold. While PENDING or
 * CONFIRMED: Cancel, which first says what the show's terms give back and asks.
 */
export function BookingActions({
  bookingId,
  status,
  booking,
  holdOpen = true,
  refusedAt = null,
  onAwaitingChange,
}: BookingActionsProps) {
  const actions = useBookingActions(bookingId);
  const [asking, setAsking] = useState(false);
  const sentFrom = useRef<BookingStatus | null>(null);
  const refusedBefore = useRef<string | null>(null);
  const pay = useMutation({
    mutationFn: () => startCheckout(bookingId),
    onSuccess: (checkout) => window.location.assign(checkout.url), // the provider's own page
  });
  const show = useQuery({
    queryKey: ['bookings', 'show-of', booking?.show_id],
    queryFn: ({ signal }) => getShowOf(booking?.show_id ?? '', signal),
    enabled: asking && Boolean(booking?.show_id),
    staleTime: 60_000,
  });

  // waiting for the status to move after an accepted confirm/cancel (or for it to be refused)
  const awaiting = actions.awaiting && sentFrom.current === status && refusedAt === refusedBefore.current;
  useEffect(() => {
    onAwaitingChange?.(awaiting);
  }, [awaiting, onAwaitingChange]);

  if (!canConfirm(status) && !canCancel(status)) return null;

  const total = booking?.total ?? null;
  const free = total === 0;
  const sent = () => {
    sentFrom.current = status;
    refusedBefore.current = refusedAt;
    actions.reset();
  };
  const onConfirmFree = () => {
    sent();
    actions.confirm.mutate('free'); // nothing to pay: the seats are the show's free ones
  };
  const onCancel = () => {
    setAsking(false);
    sent();
    actions.cancel.mutate();
  };
  const onExtend = () => {
    actions.reset();
    actions.extend.mutate(); // the new expires_at (or a refusal) arrives with the booking's next change
  };
  const busy =
    actions.confirm.isPending || actions.cancel.isPending || actions.extend.isPending || pay.isPending || awaiting;
  const terms = booking ? cancelTerms(booking, show.data) : null;

  return (
    <div className="booking-actions">
      {canConfirm(status) && !free && (
        <button
          type="button"
          data-testid="pay-button"
          onClick={() => pay.mutate()}
          disabled={busy || !holdOpen || pay.isSuccess}
        >
          {pay.isSuccess
            ? 'Opening the payment page…'
            : total !== null && booking?.currency
              ? `Pay ${formatMoney(total, booking.currency)}`
              : 'Pay'}
        </button>
      )}
      {canConfirm(status) && free && (
        <button type="button" data-testid="confirm-button" onClick={onConfirmFree} disabled={busy || !holdOpen}>
          Confirm (free)
        </button>
      )}
      {canConfirm(status) && (
        <button
          type="button"
          className="secondary"
          data-testid="extend-button"
          onClick={onExtend}
          disabled={busy || !holdOpen}
        >
          Extend hold
        </button>
      )}
      {canCancel(status) && !asking && (
        <button
          type="button"
          className="secondary"
          data-testid="cancel-button"
          onClick={() => (booking ? setAsking(true) : onCancel())}
          disabled={busy}
        >
          {status === 'CONFIRMED' ? 'Cancel booking…' : 'Release these seats…'}
        </button>
      )}
      {asking && (
        <div className="confirm-box" role="alertdialog" aria-labelledby={`cancel-${bookingId}`} data-testid="cancel-terms">
          <p id={`cancel-${bookingId}`}>
            <strong>{status === 'CONFIRMED' ? 'Cancel this booking?' : 'Release the held seats?'}</strong>{' '}
            {show.isPending && status === 'CONFIRMED' ? 'Reading the show’s terms…' : terms?.text}
          </p>
          <button
            type="button"
            className="danger"
            data-testid="cancel-confirm"
            onClick={onCancel}
            disabled={busy || terms?.allowed === false || (show.isPending && status === 'CONFIRMED')}
            autoFocus
          >
            Yes, cancel
          </button>
          <button type="button" className="secondary" data-testid="cancel-keep" onClick={() => setAsking(false)}>
            Keep it
          </button>
        </div>
      )}
      {awaiting && (
        <p className="muted" role="status" data-testid="action-pending">
          Sent; waiting for the booking system to decide…
        </p>
      )}
      {actions.notice && (
        <p className="notice" role="status">
          {actions.notice}
        </p>
      )}
      {(actions.error || pay.error) && (
        <p className="error" role="alert" data-testid="action-error">
          {actions.error ?? describeError(pay.error)}
        </p>
      )}
    </div>
  );
}
