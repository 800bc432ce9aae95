import { currencyOf, formatMoney } from '../../../lib/money';
import type { Show } from '../../../lib/types';
import { formatStart } from './format';

export function ShowHeader({ show }: { show: Show }) {
  return (
    <header className="show-header">
      <h1 data-testid="show-title">{show.title}</h1>
      <p>
        {show.venue} · <time dateTime={show.starts_at}>{formatStart(show.starts_at)}</time> · holds last{' '}
        {show.hold_seconds} s
      </p>
      <p className="muted">
        {show.sections.map((s) => `Section ${s.name}: ${s.rows}×${s.seats_per_row} at ${formatMoney(s.price_cents, currencyOf(show))}`).join(' · ')}
      </p>
    </header>
  );
}
