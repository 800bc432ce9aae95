import { api } from '../../../lib/api-client';

export const seatsQueryKey = (showId: string) => ['shows', showId, 'seats'] as const;

export function getSeats(showId: string, signal?: AbortSignal) {
  return api.GET('/v1/shows/{show_id}/seats', { params: { path: { show_id: showId } }, signal });
}
