import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { ApiError } from '../../../lib/api-client';
import { getShow, listShows, showKey, showsKey } from '../api/shows';

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
 * One show. A show just created answers 404 until the processor has decided it: `waitForIt` keeps
 * polling through that for a while (the admin page uses it).
 */
export function useShow(showId: string, options: { waitForIt?: boolean } = {}) {
  return useQuery({
    queryKey: showKey(showId),
    queryFn: ({ signal }) => getShow(showId, signal),
    enabled: Boolean(showId),
    refetchInterval: (query) => {
      const err = query.state.error;
      if (options.waitForIt && err instanceof ApiError && err.status === 404 && query.state.errorUpdateCount < 60) {
        return 1_000;
      }
      return query.state.data ? 30_000 : false;
    },
  });
}
