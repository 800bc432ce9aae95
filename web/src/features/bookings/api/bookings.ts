import { api, type RetryNotice } from '../../../lib/api-client';
import type { Accepted, Booking, BookingsPage } from '../../../lib/types';
import type { BookingBody } from '../model/booking-request';

export const bookingKey = (bookingId: string) => ['bookings', bookingId] as const;
export const myBookingsKey = ['me', 'bookings'] as const;

/** POST /v1/shows/{id}/bookings; retried (429/503/network/502) with the same Idempotency-Key. */
export function createBooking(
  showId: string,
  body: BookingBody,
  idempotencyKey: string,
  onRetry?: (notice: RetryNotice) => void,
): Promise<Accepted> {
  return api.request<Accepted>(`/v1/shows/${encodeURIComponent(showId)}/bookings`, {
    method: 'POST',
    body,
    idempotencyKey,
    maxAttempts: 5,
    onRetry,
  });
}

export function getBooking(bookingId: string, signal?: AbortSignal): Promise<Booking> {
  return api.request<Booking>(`/v1/bookings/${encodeURIComponent(bookingId)}`, { signal, maxAttempts: 2 });
}

export function confirmBooking(
  bookingId: string,
  paymentReference: string,
  onRetry?: (notice: RetryNotice) => void,
): Promise<Accepted> {
  return api.request<Accepted>(`/v1/bookings/${encodeURIComponent(bookingId)}/confirm`, {
    method: 'POST',
    body: { payment_reference: paymentReference },
    onRetry,
  });
}

export function cancelBooking(bookingId: string, onRetry?: (notice: RetryNotice) => void): Promise<Accepted> {
  return api.request<Accepted>(`/v1/bookings/${encodeURIComponent(bookingId)}/cancel`, { method: 'POST', onRetry });
}

export function listMyBookings(cursor: string | undefined, limit: number, signal?: AbortSignal): Promise<BookingsPage> {
  return api.request<BookingsPage>('/v1/me/bookings', { query: { limit, cursor }, signal });
}
