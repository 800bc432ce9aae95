import { Link } from 'react-router';
import { describeError } from '../../../lib/errors';
import { useShowList } from '../hooks/useShows';
import { formatStart } from './format';

/** All shows, a page at a time (`next_cursor`), with how many seats are left. */
export function ShowList() {
  const query = useShowList();
  if (query.isPending) return <p role="status">Loading shows…</p>;
  if (query.isError) {
    return (
      <div className="error" role="alert">
        <p>{describeError(query.error)}</p>
        <button type="button" onClick={() => void query.refetch()}>
          Try again
        </button>
      </div>
    );
  }
  const shows = query.data.pages.flatMap((p) => p.shows);
  if (shows.length === 0) return <p data-testid="no-shows">No shows yet.</p>;
  return (
    <>
      <ul className="show-list" data-testid="show-list">
        {shows.map((show) => {
          const soldOut = show.seats_available === 0;
          const held = show.seats_held ?? 0;
          return (
            <li key={show.show_id} className="show-item" data-testid="show-item" data-show-id={show.show_id}>
              <h2>
                <Link to={`/shows/${encodeURIComponent(show.show_id)}`}>{show.title}</Link>
              </h2>
              <p>
                {show.venue} · <time dateTime={show.starts_at}>{formatStart(show.starts_at)}</time>
              </p>
              <p
                data-testid="show-availability"
                data-available={show.seats_available}
                data-held={held}
                data-state={soldOut ? (held > 0 ? 'all-held' : 'sold-out') : 'available'}
              >
                {show.cancelled_at && <strong data-testid="show-cancelled">Cancelled</strong>}
                {!show.cancelled_at && soldOut && held === 0 && <strong>Sold out</strong>}
                {!show.cancelled_at && soldOut && held > 0 && (
                  <>
                    <strong>All remaining seats are held</strong> ({held.toLocaleString()}); some may be released
                    {show.next_hold_ends_at ? ` from ${new Date(show.next_hold_ends_at).toLocaleTimeString()}` : ''}.
                  </>
                )}
                {!show.cancelled_at && !soldOut && (
                  <>
                    <strong>{show.seats_available.toLocaleString()}</strong> of {show.seats_total.toLocaleString()} seats
                    available
                  </>
                )}
              </p>
              <Availability available={show.seats_available} total={show.seats_total} />
            </li>
          );
        })}
      </ul>
      {query.hasNextPage && (
        <button
          type="button"
          onClick={() => void query.fetchNextPage()}
          disabled={query.isFetchingNextPage}
          data-testid="load-more-shows"
        >
          {query.isFetchingNextPage ? 'Loading…' : 'Load more shows'}
        </button>
      )}
    </>
  );
}

function Availability({ available, total }: { available: number; total: number }) {
  return <meter min={0} max={Math.max(1, total)} value={available} aria-label="Seats available" />;
}
