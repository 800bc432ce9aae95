import { useId, useState, type FormEvent } from 'react';
import { formatMoney, totalOf } from '../../../lib/money';
import { seatNames } from '../../../lib/seat-names';
import type { Section } from '../../../lib/types';
import { useBookSeats } from '../hooks/useBookSeats';
import { MAX_SEATS_PER_BOOKING, quantityRequest, seatsRequest } from '../model/booking-request';

export interface BookingFormProps {
  showId: string;
  selected: readonly string[];
  /** The show's sections and currency: the picked seats' running total. */
  sections: readonly Section[];
  currency: string;
  /** Why nothing can be booked now (the sale has not opened, or has closed); null while it can. */
  blocked?: string | null;
  onClearSelection: () => void;
  onBooked: (bookingId: string) => void;
}

/** Book the picked seats, or ask for the best N available. */
export function BookingForm({
  showId,
  selected,
  sections,
  currency,
  blocked = null,
  onClearSelection,
  onBooked,
}: BookingFormProps) {
  const booking = useBookSeats(showId, onBooked);
  const [quantity, setQuantity] = useState('2');
  const [invalid, setInvalid] = useState<string | null>(null);
  const quantityId = useId();

  const bookSelected = () => {
    const body = seatsRequest(selected);
    if (!body.ok) {
      setInvalid(body.error);
      return;
    }
    setInvalid(null);
    booking.book(body.value);
  };
  const bookBest = (event: FormEvent) => {
    event.preventDefault();
    const body = quantityRequest(quantity);
    if (!body.ok) {
      setInvalid(body.error);
      return;
    }
    setInvalid(null);
    booking.book(body.value);
  };

  return (
    <section className="panel booking-form" aria-labelledby="book-heading">
      <h2 id="book-heading">Book</h2>
      <p data-testid="selection-summary">
        {selected.length === 0
          ? `Pick up to ${MAX_SEATS_PER_BOOKING} seats on the map.`
          : `${selected.length} of ${MAX_SEATS_PER_BOOKING} seats picked: ${seatNames(selected)}`}
      </p>
      {selected.length > 0 && (
        <p data-testid="selection-total" aria-live="polite">
          Total: {formatMoney(totalOf(selected, sections), currency)}
        </p>
      )}
      <div className="row">
        <button
          type="button"
          data-testid="book-button"
          onClick={bookSelected}
          disabled={booking.pending || selected.length === 0 || blocked !== null}
        >
          Book selected seats
        </button>
        <button type="button" className="secondary" onClick={onClearSelection} disabled={selected.length === 0}>
          Clear selection
        </button>
      </div>
      <form className="inline-form" onSubmit={bookBest} noValidate>
        <label htmlFor={quantityId}>Number of seats</label>
        <input
          id={quantityId}
          type="number"
          min={1}
          max={MAX_SEATS_PER_BOOKING}
          step={1}
          inputMode="numeric"
          value={quantity}
          onChange={(e) => setQuantity(e.target.value)}
          data-testid="best-quantity"
        />
        <button type="submit" data-testid="book-best-button" disabled={booking.pending || blocked !== null}>
          Book best available
        </button>
      </form>
      {blocked && (
        <p className="notice" role="status" data-testid="booking-blocked">
          {blocked}
        </p>
      )}
      {invalid && (
        <p className="error" role="alert">
          {invalid}
        </p>
      )}
      {booking.pending && (
        <p role="status" data-testid="booking-sending">
          Sending…
        </p>
      )}
      {booking.notice && (
        <p className="notice" role="status" data-testid="retry-notice">
          {booking.notice}
        </p>
      )}
      {booking.error && (
        <div className="error" role="alert" data-testid="booking-error">
          <p>{booking.error.message}</p>
          {booking.error.retriable && (
            <button type="button" onClick={booking.retry} data-testid="booking-retry">
              Try again (same request)
            </button>
          )}
        </div>
      )}
    </section>
  );
}
