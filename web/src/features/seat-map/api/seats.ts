import { api } from '../../../lib/api-client';
import type { SeatMapSnapshot } from '../../../lib/types';

export const seatsQueryKey = (showId: string) => ['shows', showId, 'seats'] as const;

export function getSeats(showId: string, signal?: AbortSignal): Promise<SeatMapSnapshot> {
  return api.request<SeatMapSnapshot>(`/v1/shows/${encodeURIComponent(showId)}/seats`, { signal });
}
