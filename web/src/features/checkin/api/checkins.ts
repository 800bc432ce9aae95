import { api } from '../../../lib/api-client';

/** POST /v1/checkins (scanner or admin): the door's answer to one scanned code. */
export function checkIn(code: string, gate: string) {
  return api.POST('/v1/checkins', { body: { code, gate } });
}
