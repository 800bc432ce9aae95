import { api } from '../../../lib/api-client';
import type { Show, ShowsPage } from '../../../lib/types';

export const showsKey = ['shows'] as const;
export const showKey = (showId: string) => ['shows', showId] as const;

export function listShows(cursor: string | undefined, limit: number, signal?: AbortSignal): Promise<ShowsPage> {
  return api.request<ShowsPage>('/v1/shows', { query: { limit, cursor }, signal });
}

export function getShow(showId: string, signal?: AbortSignal): Promise<Show> {
  return api.request<Show>(`/v1/shows/${encodeURIComponent(showId)}`, { signal });
}
