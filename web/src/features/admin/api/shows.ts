import { api } from '../../../lib/api-client';
import type { CreateShowBody, UpdateShowBody } from '../../../lib/types';

/** POST /v1/shows (admin) → 202 {show_id}; the show exists once the processor has created it. */
export function createShow(body: CreateShowBody) {
  return api.POST('/v1/shows', { body });
}

export const adminShowsKey = ['admin', 'shows'] as const;

/** GET /v1/admin/shows: shows by start with their sales per section (a page). */
export function listAdminShows(cursor: string | undefined, limit: number, signal?: AbortSignal) {
  return api.GET('/v1/admin/shows', { params: { query: { limit, cursor } }, signal });
}

/** POST /v1/shows/{id}/close: no sale from now on (holds made before may still be confirmed). */
export function closeSales(showId: string) {
  return api.POST('/v1/shows/{show_id}/close', { params: { path: { show_id: showId } } });
}

/** POST /v1/shows/{id}/cancel: every live booking cancelled, nothing sold again. Final. */
export function cancelShow(showId: string) {
  return api.POST('/v1/shows/{show_id}/cancel', { params: { path: { show_id: showId } } });
}

/** PATCH /v1/shows/{id}: title, venue, or (before the sale opens) the start; a refusal reads as `update_refused`. */
export function updateShow(showId: string, body: UpdateShowBody) {
  return api.PATCH('/v1/shows/{show_id}', { params: { path: { show_id: showId } }, body });
}
