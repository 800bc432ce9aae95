import { api, ApiError } from '../../../lib/api-client';
import type { WaitlistPlace, WaitlistRequest } from '../../../lib/types';

export const waitlistKey = (showId: string) => ['waitlist', showId, 'me'] as const;

/** GET /v1/shows/{id}/waitlist/me: my place, or null when I never joined (404). */
export async function getMyPlace(showId: string, signal?: AbortSignal): Promise<WaitlistPlace | null> {
  try {
    return await api.GET('/v1/shows/{show_id}/waitlist/me', {
      params: { path: { show_id: showId } },
      signal,
      maxAttempts: 2,
    });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export function joinWaitlist(showId: string, body: WaitlistRequest) {
  return api.POST('/v1/shows/{show_id}/waitlist', { params: { path: { show_id: showId } }, body });
}

export function leaveWaitlist(showId: string) {
  return api.DELETE('/v1/shows/{show_id}/waitlist', { params: { path: { show_id: showId } } });
}
