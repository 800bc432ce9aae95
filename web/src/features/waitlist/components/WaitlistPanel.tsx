import { useId, useState, type FormEvent } from 'react';
import { describeError } from '../../../lib/errors';
import type { Section } from '../../../lib/types';
import { useMyPlace, useWaitlistActions } from '../hooks/useWaitlist';
import { isActive, placeMessage } from '../model/place';

export interface WaitlistPanelProps {
  showId: string;
  sections: readonly Section[];
  /** Whether the panel offers to join (nothing is free); a place already taken is shown either way. */
  offerToJoin: boolean;
  /** Follow the booking an offer made (the page shows its status, confirm and cancel). */
  onOffer: (bookingId: string) => void;
}

/** Join a sold-out show's waiting list, see my place in line, leave it, and open the offer when it comes. */
export function WaitlistPanel({ showId, sections, offerToJoin, onOffer }: WaitlistPanelProps) {
  const place = useMyPlace(showId, true);
  const { join, leave } = useWaitlistActions(showId);
  const [quantity, setQuantity] = useState('2');
  const [section, setSection] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const quantityId = useId();
  const sectionId = useId();
  const current = place.data ?? null;
  const active = isActive(current);
  if (!active && current?.status !== 'OFFERED' && !offerToJoin) return null;

  const onJoin = (event: FormEvent) => {
    event.preventDefault();
    const n = Number(quantity);
    if (!/^\d+$/.test(quantity.trim()) || n < 1 || n > 10) {
      setInvalid('Ask for 1 to 10 seats.');
      return;
    }
    setInvalid(null);
    join.mutate(section ? { quantity: n, section } : { quantity: n });
  };

  return (
    <section className="panel waitlist-panel" aria-labelledby="waitlist-heading" data-testid="waitlist-panel">
      <h2 id="waitlist-heading">Waiting list</h2>
      {current && (
        <p
          role="status"
          aria-live="polite"
          data-testid="waitlist-place"
          data-status={current.status}
          data-position={current.position ?? ''}
        >
          {placeMessage(current)}
        </p>
      )}
      {current?.status === 'OFFERED' && current.booking_id && (
        <button type="button" data-testid="waitlist-offer" onClick={() => onOffer(current.booking_id as string)}>
          Open the seats held for you
        </button>
      )}
      {active && (
        <button
          type="button"
          className="secondary"
          data-testid="waitlist-leave"
          disabled={leave.isPending}
          onClick={() => leave.mutate()}
        >
          Leave the waiting list
        </button>
      )}
      {!active && offerToJoin && (
        <form className="inline-form" onSubmit={onJoin} noValidate>
          <p className="muted">No seats are free right now. Join the waiting list to be offered released seats.</p>
          <label htmlFor={quantityId}>Seats wanted</label>
          <input
            id={quantityId}
            type="number"
            min={1}
            max={10}
            inputMode="numeric"
            value={quantity}
            onChange={(e) => setQuantity(e.target.value)}
            data-testid="waitlist-quantity"
          />
          {sections.length > 1 && (
            <>
              <label htmlFor={sectionId}>Section</label>
              <select id={sectionId} value={section} onChange={(e) => setSection(e.target.value)}>
                <option value="">Any</option>
                {sections.map((s) => (
                  <option key={s.name} value={s.name}>
                    {s.name}
                  </option>
                ))}
              </select>
            </>
          )}
          <button type="submit" data-testid="waitlist-join" disabled={join.isPending}>
            Join the waiting list
          </button>
        </form>
      )}
      {invalid && (
        <p className="error" role="alert">
          {invalid}
        </p>
      )}
      {(join.error || leave.error) && (
        <p className="error" role="alert" data-testid="waitlist-error">
          {describeError(join.error ?? leave.error)}
        </p>
      )}
    </section>
  );
}
