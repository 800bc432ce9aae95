/** Human messages for API failures (booking rejection reasons live with the bookings feature). */
import { ApiError, NetworkError, type RetryNotice } from './api-client';

export function describeError(error: unknown): string {
  if (error instanceof NetworkError) {
    return 'Could not reach the server. Check your connection and try again.';
  }
  if (error instanceof ApiError) {
    switch (error.code) {
      case 'unauthorized':
        return 'You are not signed in, or your sign-in has expired. Please sign in again.';
      case 'forbidden':
        return 'This needs an administrator account.';
      case 'not_found':
        return 'Not found: it does not exist, or it is not yours.';
      case 'idempotency_key_reused':
        return 'This request key was already used for a different request. Please try again.';
      case 'rate_limited':
        return `Too many requests right now. Please wait ${error.retryAfterS ?? 'a few'} s and try again.`;
      case 'unavailable':
        return `The service is temporarily unavailable. Please try again in ${error.retryAfterS ?? 'a few'} s.`;
      case 'validation_error':
        return `The server refused the request: ${error.message}`;
      case 'payload_too_large':
        return 'The request is too large.';
      default:
        if (error.status === 502 || error.status === 504) {
          return 'The server did not answer in time. Please try again.';
        }
        return error.message || `The request failed (HTTP ${error.status}).`;
    }
  }
  return error instanceof Error ? error.message : 'Something went wrong.';
}

/** "Waiting 3 s" text for an automatic retry in progress. */
export function describeRetry(notice: RetryNotice): string {
  const wait = `retrying in ${notice.delayS} s (attempt ${notice.attempt + 1})`;
  switch (notice.reason) {
    case 'rate_limited':
      return `Too many requests: the server asked us to wait; ${wait}.`;
    case 'unavailable':
      return `The service is temporarily unavailable; ${wait}.`;
    case 'bad_gateway':
      return `The server did not answer; ${wait} with the same request key.`;
    case 'network':
      return `Could not reach the server; ${wait} with the same request key.`;
  }
}
