import { useCallback } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { usePageTitle } from '../../components/PageTitle';
import { ApiError } from '../../lib/api-client';
import { describeError } from '../../lib/errors';
import type { Show } from '../../lib/types';
import { SignInForm, useSession } from '../../features/auth';
import { BookingForm, BookingStatusPanel, useMyLiveSeats } from '../../features/bookings';
import { Legend, LiveIndicator, SeatMapView, useLiveSeatMap, useSeatSelection } from '../../features/seat-map';
import { ShowHeader, useShow } from '../../features/shows';

/** /shows/:showId[?booking=bk_...]: the show, its live seat map, and booking (the booking id is in the URL). */
export function ShowPage() {
  const { showId = '' } = useParams();
  const show = useShow(showId);
  usePageTitle(show.data?.title ?? 'Show');
  if (show.isPending) return <p role="status">Loading the show…</p>;
  if (show.isError) {
    const missing = show.error instanceof ApiError && show.error.status === 404;
    return (
      <>
        <h1>{missing ? 'Show not found' : 'Could not load the show'}</h1>
        <p className="error" role="alert">
          {missing ? 'There is no show with this address (it may still be being created).' : describeError(show.error)}
        </p>
        <button type="button" onClick={() => void show.refetch()}>
          Try again
        </button>{' '}
        <Link to="/">Back to the shows</Link>
      </>
    );
  }
  return <ShowView key={show.data.show_id} show={show.data} />;
}

function ShowView({ show }: { show: Show }) {
  const [params, setParams] = useSearchParams();
  const bookingId = params.get('booking');
  const session = useSession();
  const live = useLiveSeatMap(show.show_id, show.sections);
  const mine = useMyLiveSeats(show.show_id, Boolean(session));
  const selection = useSeatSelection(live.map, live.revision, mine);
  const { clear } = selection;

  const onBooked = useCallback(
    (id: string) => {
      clear();
      setParams({ booking: id });
    },
    [clear, setParams],
  );

  return (
    <>
      <ShowHeader show={show} />
      <div className="show-layout">
        <section aria-labelledby="map-heading" className="map-column">
          <div className="map-heading">
            <h2 id="map-heading">Seats</h2>
            <LiveIndicator status={live.status} />
          </div>
          <Legend />
          {live.map.version < 0 && (
            <p role="status" data-testid="seat-map-loading">
              Loading seats…
            </p>
          )}
          <SeatMapView
            map={live.map}
            revision={live.revision}
            mine={mine}
            selected={selection.selected}
            onToggle={selection.toggle}
            title={show.title}
          />
          <p className="selection-message" role="status" aria-live="polite" data-testid="selection-message">
            {selection.message ?? ''}
          </p>
        </section>
        <aside className="booking-column">
          {!session && (
            <>
              <p>Sign in to book seats.</p>
              <SignInForm />
            </>
          )}
          {session && bookingId && <BookingStatusPanel bookingId={bookingId} onClose={() => setParams({})} />}
          {session && !bookingId && (
            <BookingForm
              showId={show.show_id}
              selected={selection.selected}
              onClearSelection={selection.clear}
              onBooked={onBooked}
            />
          )}
        </aside>
      </div>
    </>
  );
}
