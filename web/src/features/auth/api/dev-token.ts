import { api } from '../../../lib/api-client';
import type { DevTokenRequest } from '../../../lib/types';

/** POST /v1/dev/token: a development sign-in (404 `not_found` when the server has it off). */
export function requestDevToken(body: DevTokenRequest) {
  return api.POST('/v1/dev/token', { body, maxAttempts: 2 });
}
