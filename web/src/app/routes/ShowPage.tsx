import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { usePageTitle } from '../../components/PageTitle';
import { ApiError } from '../../lib/api-client';
import { describeError } from '../../lib/errors';
import { currencyOf } from '../../lib/money';
import type { Show } from '../../lib/types';
import { SignInForm, useSession } from '../../features/auth';
import { BookingForm, BookingStatusPanel, useMyLiveSeats } from '../../features/bookings';
import { Legend, LiveIndicator, SeatMapView, useLiveSeatMap, useSeatSelection } from '../../features/seat-map';
import {
  SaleNotice,
  ShowHeader,
  bookingBlocked,
  drawTime,
  refusedReason,
  showKey,
  useSalePhase,
  useShow,
} from '../../features/shows';
import { WaitlistPanel } from '../../features/waitlist';

/** /shows/:showId[?booking=bk_...]: the show, its live seat map, and booking (the booking id is in the URL). */
export function ShowPage() {
  const { showId = '' } = useParams();
  const show = useShow(showId);
  usePageTitle(show.data?.title ?? 'Show');
  if (show.isPending) return <p role="status">Loading the show…</p>;
  const missing = show.error instanceof ApiError && show.error.status === 404;
  // A failed refetch keeps the show on screen (its map stays live); only a 404 means it is gone.
  if (show.isError && (missing || !show.data)) {
    const refused = refusedReason(show.error);
    return (
      <>
        <h1>{refused ? 'Show not created' : missing ? 'Show not found' : 'Could not load the show'}</h1>
        <p className="error" role="alert" data-testid="show-error" data-reason={refused ?? undefined}>
          {refused
            ? `The creation of this show was refused (${refused}).`
            : missing
              ? 'There is no show with this address.'
              : describeError(show.error)}
        </p>
        <button type="button" onClick={() => void show.refetch()}>
          Try again
        </button>{' '}
        <Link to="/">Back to the shows</Link>
      </>
    );
  }
  if (!show.data) return null;
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
  const sale = useSalePhase(show);
  // Nothing free: sold out, or every remaining seat held by someone (those may come back), as the map says.
  const nothingFree = live.map.version >= 1 && live.map.available === 0;
  const held = useMemo(() => (nothingFree ? live.map.countHeld() : 0), [nothingFree, live.map, live.revision]);
  const blocked =
    bookingBlocked(sale) ??
    (nothingFree
      ? held > 0
        ? `Every remaining seat is held by someone (${held} held); held seats that are not confirmed in time are released to the waiting list${nextRelease(show)}.`
        : 'Sold out: every seat is booked. Join the waiting list to be offered seats that are released.'
      : null);
  // Version 0: the show's creation is accepted, not yet decided. Re-read the show meanwhile, so that a
  // refused creation (404 with its reason) replaces this page; version 1 arrives on the stream.
  const provisional = live.map.version === 0;
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!provisional) return;
    const timer = setInterval(
      () => void queryClient.invalidateQueries({ queryKey: showKey(show.show_id), exact: true }),
      1_000,
    );
    return () => clearInterval(timer);
  }, [provisional, queryClient, show.show_id]);

  // When nothing is free any more, re-read the show: it says when the first hold ends.
  useEffect(() => {
    if (nothingFree) void queryClient.invalidateQueries({ queryKey: showKey(show.show_id), exact: true });
  }, [nothingFree, queryClient, show.show_id]);

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
      <SaleNotice phase={sale} />
      <div className="show-layout">
        <section aria-labelledby="map-heading" className="map-column">
          <div className="map-heading">
            <h2 id="map-heading">Seats</h2>
            <LiveIndicator status={live.status} />
          </div>
          <Legend />
          {provisional && (
            <p className="notice" role="status" data-testid="show-provisional">
              This show is being set up; its seats go on sale in a moment.
            </p>
          )}
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
            currency={currencyOf(show)}
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
          {session && bookingId && (
            <BookingStatusPanel bookingId={bookingId} drawAt={drawTime(show)} onClose={() => setParams({})} />
          )}
          {session && !bookingId && (
            <BookingForm
              showId={show.show_id}
              selected={selection.selected}
              sections={show.sections}
              currency={currencyOf(show)}
              blocked={blocked}
              onClearSelection={selection.clear}
              onBooked={onBooked}
            />
          )}
          {session && (
            <WaitlistPanel
              showId={show.show_id}
              sections={show.sections}
              offerToJoin={nothingFree && !bookingId && (sale.kind === 'open' || sale.kind === 'fair-start')}
              onOffer={onBooked}
            />
          )}
        </aside>
      </div>
    </>
  );
}

/** ", the first hold ending at 20:15:03" when the show says when (its read, not the live map). */
function nextRelease(show: Show): string {
  return show.next_hold_ends_at ? `, the first hold ending at ${new Date(show.next_hold_ends_at).toLocaleTimeString()}` : '';
}
