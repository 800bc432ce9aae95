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

/**
 * How far a show's creation has got: the seat map's version is 0 while the creation is accepted but not
 * decided, 1 or more once the processor created it; a refused creation reads 404 with `details.reason`.
 */
export const creationKey = (showId: string) => ['shows', showId, 'creation'] as const;

export async function getShowVersion(showId: string, signal?: AbortSignal): Promise<number> {
  const seats = await api.request<{ version: number }>(`/v1/shows/${encodeURIComponent(showId)}/seats`, { signal });
  return seats.version;
}
