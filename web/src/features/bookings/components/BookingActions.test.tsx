// @vitest-environment jsdom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';

const posted: string[] = [];
vi.mock('../../../lib/api-client', async (original) => {
  const real = await original<typeof import('../../../lib/api-client')>();
  return {
    ...real,
    api: {
      GET: vi.fn(),
      GET_TAGGED: vi.fn(),
      POST: vi.fn(async (path: string, init: { params: { path: { booking_id: string } } }) => {
        posted.push(path.replace('{booking_id}', init.params.path.booking_id));
        return { booking_id: init.params.path.booking_id, status: 'PENDING' };
      }),
    },
  };
});

import { BookingActions } from './BookingActions';

function renderActions(status: 'PENDING' | 'CONFIRMED', holdOpen = true) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <BookingActions bookingId="bk_1" status={status} holdOpen={holdOpen} />
    </QueryClientProvider>,
  );
}

describe('BookingActions', () => {
  afterEach(() => {
    cleanup();
    posted.length = 0;
  });

  it('extends a pending hold through POST /v1/bookings/{id}/extend', async () => {
    renderActions('PENDING');
    fireEvent.click(screen.getByTestId('extend-button'));
    await waitFor(() => expect(posted).toEqual(['/v1/bookings/bk_1/extend']));
  });

  it('offers no extension once the hold is over or the booking is confirmed', () => {
    renderActions('PENDING', false);
    expect((screen.getByTestId('extend-button') as HTMLButtonElement).disabled).toBe(true);
    cleanup();
    renderActions('CONFIRMED');
    expect(screen.queryByTestId('extend-button')).toBeNull();
    expect(screen.getByTestId('cancel-button')).toBeTruthy();
  });
});
