import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../lib/api-client';
import { refusedReason } from './useShows';

describe('refusedReason', () => {
  it('reads the reason a show creation was refused from its 404', () => {
    const refused = new ApiError(404, 'not_found', 'the creation of this show was rejected (invalid_request)', {
      status: 'REJECTED',
      reason: 'invalid_request',
    });
    expect(refusedReason(refused)).toBe('invalid_request');
  });

  it('is null for any other error', () => {
    expect(refusedReason(new ApiError(404, 'not_found', 'no such show'))).toBeNull();
    expect(refusedReason(new ApiError(503, 'unavailable', 'down', { reason: 'x' }))).toBeNull();
    expect(refusedReason(new Error('boom'))).toBeNull();
  });
});
