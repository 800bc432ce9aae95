import { api } from '../../../lib/api-client';
import type { CreateShowBody } from '../../../lib/types';

/** POST /v1/shows (admin) → 202 {show_id}; the show exists once the processor has created it. */
export function createShow(body: CreateShowBody): Promise<{ show_id: string }> {
  return api.request<{ show_id: string }>('/v1/shows', { method: 'POST', body });
}
