import { api, type RetryNotice } from '../../../lib/api-client';
import type { BookingRequest } from '../../../lib/types';

export const bookingKey = (bookingId: string) => ['bookings', bookingId] as const;
export const myBookingsKey = ['me', 'bookings'] as const;

/** POST /v1/shows/{id}/bookings; retried (429/503/network/502) with the same Idempotency-Key. */
export function createBooking(
  showId: string,
  body: BookingRequest,
  idempotencyKey: string,
  onRetry?: (notice: RetryNotice) => void,
) {
  return api.POST('/v1/shows/{show_id}/bookings', {
    params: { path: { show_id: showId }, header: { 'Idempotency-Key': idempotencyKey } },
    body,
    maxAttempts: 5,
    onRetry,
  });
}

/** The longest the server is asked to hold a read of a booking open for a change (its maximum is 30 s). */
export const BOOKING_WAIT_S = 25;

/**
 * GET /v1/bookings/{id}. With the ETag of the copy we hold, a conditional read: 304 (`notModified`) when it is
 * still current; with `waitS` too, the server answers as soon as the booking changes, or 304 after `waitS`
 * seconds (`Prefer: wait`), so a client waiting for a decision asks about once per change, not once a second.
 */
export function getBooking(bookingId: string, signal?: AbortSignal, etag?: string | null, waitS?: number) {
  const header: { 'If-None-Match'?: string; Prefer?: string } = {};
  if (etag) {
    header['If-None-Match'] = etag;
    if (waitS) header.Prefer = `wait=${waitS}`;
  }
  return api.GET_TAGGED('/v1/bookings/{booking_id}', {
    params: { path: { booking_id: bookingId }, header },
    signal,
    maxAttempts: 2,
  });
}

export function confirmBooking(bookingId: string, paymentReference: string, onRetry?: (notice: RetryNotice) => void) {
  return api.POST('/v1/bookings/{booking_id}/confirm', {
    params: { path: { booking_id: bookingId } },
    body: { payment_reference: paymentReference },
    onRetry,
  });
}

export function cancelBooking(bookingId: string, onRetry?: (notice: RetryNotice) => void) {
  return api.POST('/v1/bookings/{booking_id}/cancel', { params: { path: { booking_id: bookingId } }, onRetry });
}

/** POST /v1/bookings/{id}/extend: the hold prolonged by the show's hold time (a bounded number of times). */
export function extendBooking(bookingId: string, onRetry?: (notice: RetryNotice) => void) {
  return api.POST('/v1/bookings/{booking_id}/extend', { params: { path: { booking_id: bookingId } }, onRetry });
}

export function listMyBookings(cursor: string | undefined, limit: number, signal?: AbortSignal) {
  return api.GET('/v1/me/bookings', { params: { query: { limit, cursor } }, signal });
}

/** POST /v1/bookings/{id}/checkout: a checkout at the payment provider for the hold's total (its `url`). */
export function startCheckout(bookingId: string, onRetry?: (notice: RetryNotice) => void) {
  return api.POST('/v1/bookings/{booking_id}/checkout', { params: { path: { booking_id: bookingId } }, onRetry });
}

/** GET /v1/bookings/{id}/tickets: one signed code per seat while CONFIRMED. */
export function getTickets(bookingId: string, signal?: AbortSignal) {
  return api.GET('/v1/bookings/{booking_id}/tickets', { params: { path: { booking_id: bookingId } }, signal });
}

/** The show a booking is for (its cancellation terms, its title for the order page). */
export function getShowOf(showId: string, signal?: AbortSignal) {
  return api.GET('/v1/shows/{show_id}', { params: { path: { show_id: showId } }, signal });
}
