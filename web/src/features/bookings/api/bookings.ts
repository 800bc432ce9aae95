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

export function getBooking(bookingId: string, signal?: AbortSignal) {
  return api.GET('/v1/bookings/{booking_id}', { params: { path: { booking_id: bookingId } }, signal, maxAttempts: 2 });
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

export function listMyBookings(cursor: string | undefined, limit: number, signal?: AbortSignal) {
  return api.GET('/v1/me/bookings', { params: { query: { limit, cursor } }, signal });
}
