import { useQuery } from '@tanstack/react-query';
import { getTickets } from '../../bookings/api/bookings';
import { describeError } from '../../../lib/errors';
import { seatName } from '../../../lib/seat-names';
import { TicketQr } from './TicketQr';

/** One ticket per seat of a CONFIRMED booking: its QR code, and the code as text (to read out or paste). */
export function Tickets({ bookingId, status }: { bookingId: string; status: string }) {
  const query = useQuery({
    queryKey: ['bookings', bookingId, 'tickets', status],
    queryFn: ({ signal }) => getTickets(bookingId, signal),
    enabled: status === 'CONFIRMED',
  });
  if (status !== 'CONFIRMED') return null;
  if (query.isPending) return <p role="status">Loading your tickets…</p>;
  if (query.isError) return <p className="error" role="alert">{describeError(query.error)}</p>;
  return (
    <section aria-labelledby="tickets-heading">
      <h2 id="tickets-heading">Your tickets</h2>
      <p className="muted">Show one QR code per seat at the door. Each is signed: a copy of it gets in once.</p>
      <ul className="tickets" data-testid="tickets">
        {query.data.tickets.map((t) => (
          <li key={t.ticket_id} className="ticket panel" data-testid="ticket" data-ticket-id={t.ticket_id}>
            <h3>{seatName(t.seat)}</h3>
            <TicketQr code={t.code} label={seatName(t.seat)} />
            <details>
              <summary>Ticket code</summary>
              <code className="ticket-code" data-testid="ticket-code">
                {t.code}
              </code>
            </details>
          </li>
        ))}
      </ul>
    </section>
  );
}
