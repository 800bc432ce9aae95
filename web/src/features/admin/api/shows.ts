import { api } from '../../../lib/api-client';
import type { CreateShowBody } from '../../../lib/types';

/** POST /v1/shows (admin) → 202 {show_id}; the show exists once the processor has created it. */
export function createShow(body: CreateShowBody) {
  return api.POST('/v1/shows', { body });
}
