import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { ApiError } from '../../../lib/api-client';
import { creationKey, getShow, getShowVersion, listShows, showKey, showsKey } from '../api/shows';

export const SHOWS_PAGE = 20;

export function useShowList() {
  return useInfiniteQuery({
    queryKey: [...showsKey, 'list'],
    queryFn: ({ pageParam, signal }) => listShows(pageParam, SHOWS_PAGE, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor || undefined,
    refetchInterval: 30_000,
  });
}

/**
 * One show. A show reads as soon as its creation is accepted (seat map version 0); `pollMs` refetches it
 * that often (while it is being created: a refused creation then reads 404, with the reason).
 */
export function useShow(showId: string, options: { pollMs?: number } = {}) {
  return useQuery({
    queryKey: showKey(showId),
    queryFn: ({ signal }) => getShow(showId, signal),
    enabled: Boolean(showId),
    retry: (failures, error) => !(error instanceof ApiError && error.status === 404) && failures < 3,
    refetchInterval: (query) => {
      if (query.state.error instanceof ApiError && query.state.error.status === 404) return false;
      return options.pollMs ?? (query.state.data ? 30_000 : false);
    },
  });
}

export type ShowCreation =
  | { state: 'pending' }
  | { state: 'created'; version: number }
  | { state: 'refused'; reason: string }
  | { state: 'missing' }
  | { state: 'error'; error: Error };

/** Why a show reads 404: the reason its creation was refused, if that is what happened. */
export function refusedReason(error: unknown): string | null {
  if (!(error instanceof ApiError) || error.status !== 404) return null;
  const details = error.details as { reason?: unknown } | null | undefined;
  return typeof details?.reason === 'string' ? details.reason : null;
}

/** Follows a show's creation (after the 202 of POST /v1/shows) until it is decided. */
export function useShowCreation(showId: string): ShowCreation {
  const query = useQuery({
    queryKey: creationKey(showId),
    queryFn: ({ signal }) => getShowVersion(showId, signal),
    retry: false,
    refetchInterval: (q) => {
      if (q.state.data !== undefined && q.state.data >= 1) return false;
      if (q.state.error instanceof ApiError && q.state.error.status === 404) {
        return refusedReason(q.state.error) === null && q.state.errorUpdateCount < 60 ? 500 : false;
      }
      return 500;
    },
  });
  if (query.data !== undefined && query.data >= 1) return { state: 'created', version: query.data };
  if (query.error) {
    const reason = refusedReason(query.error);
    if (reason) return { state: 'refused', reason };
    if (query.error instanceof ApiError && query.error.status === 404) {
      return query.errorUpdateCount < 60 ? { state: 'pending' } : { state: 'missing' };
    }
    return { state: 'error', error: query.error };
  }
  return { state: 'pending' };
}
