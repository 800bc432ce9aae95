import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import type { Section } from '../../../lib/types';
import { getSeats, seatsQueryKey } from '../api/seats';
import { LiveSeatMap, type EventSourceLike, type LiveStatus } from '../model/live-seat-map';
import { SeatMap } from '../model/seat-map';
import { nextFrame } from '../model/frame';

export interface LiveSeatMapState {
  map: SeatMap;
  /** Bumped (at most once per animation frame) whenever seat states changed. */
  revision: number;
  status: LiveStatus;
}

/**
 * A show's seat map, kept live: the /seats snapshot through the query layer, then the change stream.
 * `openStream` is injectable for tests; by default a same-origin EventSource.
 */
export function useLiveSeatMap(
  showId: string,
  sections: readonly Section[],
  openStream: (url: string) => EventSourceLike = (url) => new EventSource(url) as unknown as EventSourceLike,
): LiveSeatMapState {
  const queryClient = useQueryClient();
  const layoutKey = JSON.stringify(sections);
  // keyed on the layout's content, not on the array's identity (a refetched show is a new array)
  const map = useMemo(() => new SeatMap(JSON.parse(layoutKey) as Section[]), [showId, layoutKey]);
  const [revision, setRevision] = useState(0);
  const [status, setStatus] = useState<LiveStatus>('connecting');

  useEffect(() => {
    let cancelFrame: (() => void) | null = null;
    const bump = () => {
      if (cancelFrame) return;
      cancelFrame = nextFrame(() => {
        cancelFrame = null;
        setRevision((r) => r + 1);
      });
    };
    const live = new LiveSeatMap({
      showId,
      map,
      fetchSnapshot: () =>
        queryClient.fetchQuery({
          queryKey: seatsQueryKey(showId),
          queryFn: ({ signal }) => getSeats(showId, signal),
          staleTime: 0,
        }),
      openStream,
      onUpdate: bump,
      onStatus: setStatus,
    });
    void live.start();
    const onOnline = () => live.reconnect();
    window.addEventListener('online', onOnline);
    return () => {
      window.removeEventListener('online', onOnline);
      live.stop();
      cancelFrame?.();
    };
    // openStream is a factory: a new identity of it must not reconnect
  }, [map, showId, queryClient]);

  return { map, revision, status };
}
