import { api } from '../../../lib/api-client';

export const showsKey = ['shows'] as const;
export const showKey = (showId: string) => ['shows', showId] as const;

export function listShows(cursor: string | undefined, limit: number, signal?: AbortSignal) {
  return api.GET('/v1/shows', { params: { query: { limit, cursor } }, signal });
}

export function getShow(showId: string, signal?: AbortSignal) {
  return api.GET('/v1/shows/{show_id}', { params: { path: { show_id: showId } }, signal });
}

/**
 * How far a show's creation has got: the seat map's version is 0 while the creation is accepted but not
 * decided, 1 or more once the processor created it; a refused creation reads 404 with `details.reason`.
 */
export const creationKey = (showId: string) => ['shows', showId, 'creation'] as const;

export async function getShowVersion(showId: string, signal?: AbortSignal): Promise<number> {
  const seats = await api.GET('/v1/shows/{show_id}/seats', { params: { path: { show_id: showId } }, signal });
  return seats.version;
}
