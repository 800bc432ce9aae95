import { useQuery } from '@tanstack/react-query';
import { getShow, showKey } from '../api/shows';
import { formatStart } from './format';

/**
 * A show in one line ("Hamlet · Globe · 1 Jun 2030, 19:30") for lists of other things (my bookings). One
 * cached query per show, shared with the show page's (same key): a list of many bookings of a few shows
 * asks once per show, and not again for five minutes. The id while it loads or when it cannot be read.
 */
export function ShowSummary({ showId }: { showId: string }) {
  const show = useQuery({
    queryKey: showKey(showId),
    queryFn: ({ signal }) => getShow(showId, signal),
    staleTime: 5 * 60_000,
    retry: false,
  });
  if (!show.data) return <span data-testid="show-summary">{showId}</span>;
  const { title, venue, starts_at } = show.data;
  return (
    <span data-testid="show-summary">
      {title} · {venue} · <time dateTime={starts_at}>{formatStart(starts_at)}</time>
    </span>
  );
}
