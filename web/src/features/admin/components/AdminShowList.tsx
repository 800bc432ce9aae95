import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { describeError } from '../../../lib/errors';
import { formatMoney } from '../../../lib/money';
import type { AdminShow } from '../../../lib/types';
import { adminShowsKey, cancelShow, closeSales, listAdminShows, updateShow } from '../api/shows';
import { toRfc3339 } from '../model/validation';

const PAGE = 50;

/** The shows with their sales per section, and the admin's actions on each: close the sale, cancel the show. */
export function AdminShowList() {
  const query = useInfiniteQuery({
    queryKey: adminShowsKey,
    queryFn: ({ pageParam, signal }) => listAdminShows(pageParam, PAGE, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: 5_000,
  });
  if (query.isPending) return <p role="status">Loading the shows…</p>;
  if (query.isError) return <p className="error">{describeError(query.error)}</p>;
  const shows = query.data.pages.flatMap((p) => p.shows);
  return (
    <section aria-labelledby="admin-shows-heading" data-testid="admin-shows">
      <h2 id="admin-shows-heading">Shows and sales</h2>
      {shows.length === 0 && <p>No shows yet.</p>}
      {shows.map((row) => (
        <AdminShowRow key={row.show.show_id} row={row} />
      ))}
      {query.hasNextPage && (
        <button type="button" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
          More shows
        </button>
      )}
    </section>
  );
}

function AdminShowRow({ row }: { row: AdminShow }) {
  const { show } = row;
  const queryClient = useQueryClient();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: adminShowsKey });
  const close = useMutation({ mutationFn: () => closeSales(show.show_id), onSuccess: refresh });
  const cancel = useMutation({ mutationFn: () => cancelShow(show.show_id), onSuccess: refresh });
  const cancelled = Boolean(show.cancelled_at);
  const closed = !cancelled && show.sale_closes_at != null && Date.parse(show.sale_closes_at) <= Date.now();
  const money = (minor: number) => formatMoney(minor, show.currency ?? 'EUR');
  return (
    <article className="panel admin-show" data-testid="admin-show" data-show-id={show.show_id}>
      <h3>
        <Link to={`/shows/${encodeURIComponent(show.show_id)}`}>{show.title}</Link>{' '}
        {cancelled && <span data-testid="admin-show-state">(cancelled)</span>}
        {closed && <span data-testid="admin-show-state">(sales closed)</span>}
      </h3>
      <table className="sections-table">
        <thead>
          <tr>
            <th scope="col">Section</th>
            <th scope="col">Available</th>
            <th scope="col">Held</th>
            <th scope="col">Sold</th>
            <th scope="col">Revenue</th>
          </tr>
        </thead>
        <tbody>
          {row.sections.map((s) => (
            <tr key={s.name} data-testid="admin-section" data-section={s.name}>
              <th scope="row">{s.name}</th>
              <td>{s.available}</td>
              <td>{s.held}</td>
              <td>{s.sold}</td>
              <td>{money(s.revenue)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">All</th>
            <td>{show.seats_available}</td>
            <td>{row.sections.reduce((n, s) => n + s.held, 0)}</td>
            <td data-testid="admin-sold">{row.sold}</td>
            <td data-testid="admin-revenue">{money(row.revenue)}</td>
          </tr>
        </tfoot>
      </table>
      <p data-testid="admin-checked-in">
        Checked in at the door: <strong>{row.checked_in ?? 0}</strong> of {row.sold} sold
      </p>
      {!cancelled && (
        <div className="row">
          {!closed && (
            <button
              type="button"
              className="secondary"
              data-testid="admin-close-sales"
              disabled={close.isPending}
              onClick={() => {
                if (window.confirm(`Close the sale of “${show.title}” now?`)) close.mutate();
              }}
            >
              Close sales
            </button>
          )}
          <button
            type="button"
            className="danger"
            data-testid="admin-cancel-show"
            disabled={cancel.isPending}
            onClick={() => {
              if (window.confirm(`Cancel “${show.title}”? Every booking is cancelled and its customer told. This cannot be undone.`))
                cancel.mutate();
            }}
          >
            Cancel the show
          </button>
        </div>
      )}
      {!cancelled && <EditShow row={row} onDone={refresh} />}
      {show.update_refused && (
        <p className="notice" data-testid="admin-update-refused" data-reason={show.update_refused}>
          The last change could not be made ({REFUSED[show.update_refused] ?? show.update_refused}).
        </p>
      )}
      {(close.error || cancel.error) && (
        <p className="error" role="alert">
          {describeError(close.error ?? cancel.error)}
        </p>
      )}
    </article>
  );
}

const REFUSED: Record<string, string> = {
  sale_open: 'the sale has opened, so the start stays as people bought it',
  invalid_start: 'the start must be ahead, and after the sale opens',
  show_cancelled: 'the show is cancelled',
};

/** Rename the show, move its venue, or (before its sale opens) its start. */
function EditShow({ row, onDone }: { row: AdminShow; onDone: () => void }) {
  const { show } = row;
  const [title, setTitle] = useState(show.title);
  const [venue, setVenue] = useState(show.venue);
  const [startsAt, setStartsAt] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const edit = useMutation({ mutationFn: (body: Parameters<typeof updateShow>[1]) => updateShow(show.show_id, body), onSuccess: onDone });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const body: Parameters<typeof updateShow>[1] = {};
    if (title.trim() && title !== show.title) body.title = title;
    if (venue.trim() && venue !== show.venue) body.venue = venue;
    if (startsAt.trim()) {
      const at = toRfc3339(startsAt);
      if (!at) {
        setInvalid('Enter the new start as a date and time.');
        return;
      }
      body.starts_at = at;
    }
    if (Object.keys(body).length === 0) {
      setInvalid('Change the title, the venue or the start first.');
      return;
    }
    setInvalid(null);
    edit.mutate(body);
  };
  return (
    <details className="admin-edit">
      <summary>Edit</summary>
      <form className="inline-form" onSubmit={onSubmit} noValidate data-testid="admin-edit-show">
        <label htmlFor={`title-${show.show_id}`}>New name</label>
        <input id={`title-${show.show_id}`} value={title} onChange={(e) => setTitle(e.target.value)} />
        <label htmlFor={`venue-${show.show_id}`}>New place</label>
        <input id={`venue-${show.show_id}`} value={venue} onChange={(e) => setVenue(e.target.value)} />
        <label htmlFor={`start-${show.show_id}`}>New start (only before the sale opens)</label>
        <input
          id={`start-${show.show_id}`}
          type="datetime-local"
          value={startsAt}
          onChange={(e) => setStartsAt(e.target.value)}
        />
        <button type="submit" disabled={edit.isPending} data-testid="admin-edit-submit">
          Save
        </button>
        {invalid && (
          <p className="error" role="alert">
            {invalid}
          </p>
        )}
        {edit.error && (
          <p className="error" role="alert">
            {describeError(edit.error)}
          </p>
        )}
      </form>
    </details>
  );
}
