import type { Refusal } from '../../../lib/types';
import { refusalMessage } from '../model/messages';

/** The last confirm or cancel of a booking that could not be applied, told to its owner. */
export function Refused({ refused }: { refused: Refusal | null | undefined }) {
  const message = refusalMessage(refused);
  if (!refused || !message) return null;
  return (
    <p className="error" role="alert" data-testid="booking-refused" data-action={refused.action} data-reason={refused.reason}>
      {message}
    </p>
  );
}
