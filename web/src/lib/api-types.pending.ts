/**
 * HAND-WRITTEN, TEMPORARY: types of routes and fields the backend's OpenAPI document does not describe yet
 * (POST /v1/dev/token, GET /v1/shows/{id}/seats/stream, queue_position/estimated_wait_s on a booking).
 * Written from the contract in the web issue. Replace each with the generated type from ./api-types.ts
 * (`npm run gen:api`) once intake/openapi.py documents it, then delete this file.
 */

/** POST /v1/dev/token request body. */
export interface DevTokenRequest {
  sub: string;
  role: 'customer' | 'admin';
  email?: string;
}

/** POST /v1/dev/token 200 body (404 `not_found` when development sign-in is off). */
export interface DevTokenResponse {
  token: string;
  sub: string;
  role: 'customer' | 'admin';
  expires_at: string;
}

/** Extra fields of GET /v1/bookings/{id} while the booking is RECEIVED. */
export interface QueueFields {
  queue_position?: number | null;
  estimated_wait_s?: number | null;
}

export type StreamedSeatState = 'available' | 'held' | 'booked';

/** `event: change` of GET /v1/shows/{id}/seats/stream (`id:` is the version). */
export interface SeatChangeEvent {
  show_id: string;
  version: number;
  seats_available: number;
  changes: { seat_id: string; state: StreamedSeatState }[];
}

/** `event: reset`: the server cannot serve changes after the requested version; refetch /seats. */
export interface SeatResetEvent {
  version: number;
}
