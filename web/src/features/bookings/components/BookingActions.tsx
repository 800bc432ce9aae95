import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { bookingLimits, textProblem } from '../../../lib/limits';
import type { BookingStatus } from '../../../lib/types';
import { useBookingActions } from '../hooks/useBookingActions';
import { canCancel, canConfirm } from '../model/messages';

export interface BookingActionsProps {
  bookingId: string;
  status: BookingStatus;
  /** False once the hold's time is up (a confirm then could only fail with hold_expired). */
  holdOpen?: boolean;
  /** `refused.at` of the booking: a new value means our confirm/cancel was refused (the status stays). */
  refusedAt?: string | null;
  onAwaitingChange?: (awaiting: boolean) => void;
}

/** Payment reference + Confirm and Extend hold while PENDING; Cancel while PENDING or CONFIRMED. */
export function BookingActions({
  bookingId,
  status,
  holdOpen = true,
  refusedAt = null,
  onAwaitingChange,
}: BookingActionsProps) {
  const actions = useBookingActions(bookingId);
  const [reference, setReference] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const fieldId = useId();
  const sentFrom = useRef<BookingStatus | null>(null);
  const refusedBefore = useRef<string | null>(null);

  // waiting for the status to move after an accepted confirm/cancel (or for it to be refused)
  const awaiting = actions.awaiting && sentFrom.current === status && refusedAt === refusedBefore.current;
  useEffect(() => {
    onAwaitingChange?.(awaiting);
  }, [awaiting, onAwaitingChange]);

  if (!canConfirm(status) && !canCancel(status)) return null;

  const onConfirm = (event: FormEvent) => {
    event.preventDefault();
    const value = reference.trim();
    const { minLength, maxLength } = bookingLimits.paymentReference;
    const problem = textProblem(value, bookingLimits.paymentReference);
    if (problem === 'pattern') {
      setInvalid('The payment reference must not contain control characters.');
      return;
    }
    if (problem) {
      setInvalid(`Enter the payment reference (${minLength} to ${maxLength} characters).`);
      return;
    }
    setInvalid(null);
    sentFrom.current = status;
    refusedBefore.current = refusedAt;
    actions.reset();
    actions.confirm.mutate(value);
  };
  const onCancel = () => {
    sentFrom.current = status;
    refusedBefore.current = refusedAt;
    actions.reset();
    actions.cancel.mutate();
  };
  const onExtend = () => {
    actions.reset();
    actions.extend.mutate(); // the new expires_at (or a refusal) arrives with the booking's next change
  };
  const busy = actions.confirm.isPending || actions.cancel.isPending || actions.extend.isPending || awaiting;

  return (
    <div className="booking-actions">
      {canConfirm(status) && (
        <form onSubmit={onConfirm} className="inline-form" noValidate>
          <label htmlFor={fieldId}>Payment reference</label>
          <input
            id={fieldId}
            name="payment_reference"
            data-testid="payment-reference"
            value={reference}
            maxLength={bookingLimits.paymentReference.maxLength}
            onChange={(e) => setReference(e.target.value)}
            aria-invalid={invalid ? true : undefined}
            aria-describedby={invalid ? `${fieldId}-error` : undefined}
            disabled={!holdOpen}
          />
          <button type="submit" data-testid="confirm-button" disabled={busy || !holdOpen}>
            Confirm booking
          </button>
          {invalid && (
            <span id={`${fieldId}-error`} className="error" role="alert">
              {invalid}
            </span>
          )}
        </form>
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
      {canCancel(status) && (
        <button type="button" className="secondary" data-testid="cancel-button" onClick={onCancel} disabled={busy}>
          Cancel booking
        </button>
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
      {actions.error && (
        <p className="error" role="alert" data-testid="action-error">
          {actions.error}
        </p>
      )}
    </div>
  );
}
