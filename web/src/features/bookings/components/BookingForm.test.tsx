// @vitest-environment jsdom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('../../../lib/api-client', async (original) => {
  const real = await original<typeof import('../../../lib/api-client')>();
  return { ...real, api: { GET: vi.fn(), GET_TAGGED: vi.fn(), POST: vi.fn() } };
});

import { BookingForm } from './BookingForm';
import { BookingTotal } from './BookingTotal';

const sections = [
  { name: 'Stalls', rows: 10, seats_per_row: 20, price_cents: 4550 },
  { name: 'Circle', rows: 5, seats_per_row: 10, price_cents: 2000 },
];

function renderForm(selected: string[], currency = 'EUR', blocked: string | null = null) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <BookingForm
        showId="sh_1"
        selected={selected}
        sections={sections}
        currency={currency}
        blocked={blocked}
        onClearSelection={() => {}}
        onBooked={() => {}}
      />
    </QueryClientProvider>,
  );
}

describe('BookingForm', () => {
  afterEach(cleanup);

  it('books nothing while the sale is not open, and says why', () => {
    renderForm(['Stalls-3-6'], 'EUR', 'Sales have not opened yet.');
    expect((screen.getByTestId('book-button') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('book-best-button') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('booking-blocked').textContent).toBe('Sales have not opened yet.');
    cleanup();
    renderForm(['Stalls-3-6']);
    expect((screen.getByTestId('book-button') as HTMLButtonElement).disabled).toBe(false);
    expect(screen.queryByTestId('booking-blocked')).toBeNull();
  });

  it('names the picked seats as people read them and keeps a running total', () => {
    renderForm(['Stalls-3-6', 'Circle-1-1']);
    expect(screen.getByTestId('selection-summary').textContent).toBe(
      '2 of 10 seats picked: Stalls, row 3, seat 6; Circle, row 1, seat 1',
    );
    expect(screen.getByTestId('selection-total').textContent).toMatch(/^Total: €65\.50$/);
  });

  it('shows no total before a seat is picked, and zero-decimal currencies whole', () => {
    const { unmount } = renderForm([]);
    expect(screen.queryByTestId('selection-total')).toBeNull();
    unmount();
    renderForm(['Stalls-1-1'], 'JPY');
    expect(screen.getByTestId('selection-total').textContent).toMatch(/¥4,550$/);
  });
});

describe('BookingTotal', () => {
  afterEach(cleanup);

  it('shows the booking’s total once it has one (not while RECEIVED)', () => {
    const { unmount } = render(<BookingTotal booking={{ total: 9100, currency: 'EUR' }} />);
    expect(screen.getByTestId('booking-total').textContent).toMatch(/Total: €91\.00/);
    unmount();
    render(<BookingTotal booking={{}} />);
    expect(screen.queryByTestId('booking-total')).toBeNull();
  });
});
