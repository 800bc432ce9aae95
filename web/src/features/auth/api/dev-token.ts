import { api } from '../../../lib/api-client';
import type { DevTokenRequest, DevTokenResponse } from '../../../lib/types';

/** POST /v1/dev/token: a development sign-in (404 `not_found` when the server has it off). */
export function requestDevToken(body: DevTokenRequest): Promise<DevTokenResponse> {
  return api.request<DevTokenResponse>('/v1/dev/token', { method: 'POST', body, maxAttempts: 2 });
}
