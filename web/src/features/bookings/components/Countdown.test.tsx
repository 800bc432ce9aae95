// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Countdown } from './Countdown';

const inS = (s: number) => new Date(Date.now() + s * 1000).toISOString();

describe('Countdown', () => {
  afterEach(cleanup);
  it('warns as the hold runs low, and says so to screen readers', () => {
    render(<Countdown expiresAt={inS(28)} />);
    expect(screen.getByTestId('hold-countdown').getAttribute('data-low')).toBe('true');
    expect(screen.getByTestId('hold-countdown').textContent).toContain('Pay now');
    expect(screen.getByTestId('hold-announcement').textContent).toBe('Your hold ends in 30 seconds.');
  });
  it('stays calm with time left', () => {
    render(<Countdown expiresAt={inS(100)} />);
    expect(screen.getByTestId('hold-countdown').getAttribute('data-low')).toBe('false');
    expect(screen.getByTestId('hold-announcement').textContent).toBe('');
  });
});
