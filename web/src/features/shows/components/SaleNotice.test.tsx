// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { salePhase } from '../model/sale';
import { SaleNotice } from './SaleNotice';

const opens = Date.parse('2027-01-01T10:00:00Z');
const show = { starts_at: '2027-02-01T20:00:00Z', sale_opens_at: '2027-01-01T10:00:00Z', fair_start_window_s: 10 };

describe('SaleNotice', () => {
  afterEach(cleanup);

  it('counts down to the opening and promises the fair start', () => {
    render(<SaleNotice phase={salePhase(show, opens - 125_000)} />);
    const notice = screen.getByTestId('sale-notice');
    expect(notice.dataset.phase).toBe('before');
    expect(notice.textContent).toContain('Sales open in 2:05');
    expect(notice.textContent).toContain('first 10 s is drawn in a random order');
  });

  it('says that being first does not matter during the window, and nothing once the sale is plain open', () => {
    render(<SaleNotice phase={salePhase(show, opens + 3_000)} />);
    expect(screen.getByTestId('sale-notice').textContent).toContain('drawn in a random order in 0:07');
    cleanup();
    render(<SaleNotice phase={salePhase(show, opens + 10_000)} />);
    expect(screen.queryByTestId('sale-notice')).toBeNull();
  });
});
