// @vitest-environment jsdom
import { act, cleanup, render, renderHook, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Countdown } from '../components/Countdown';
import { formatCountdown, secondsLeft, useCountdown } from './useCountdown';

describe('countdown', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-05-01T12:00:00Z'));
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('computes whole seconds left, never below zero', () => {
    const now = Date.parse('2026-05-01T12:00:00Z');
    expect(secondsLeft('2026-05-01T12:02:00Z', now)).toBe(120);
    expect(secondsLeft('2026-05-01T12:00:00.400Z', now)).toBe(1);
    expect(secondsLeft('2026-05-01T11:59:00Z', now)).toBe(0);
    expect(secondsLeft(null, now)).toBeNull();
    expect(formatCountdown(125)).toBe('2:05');
    expect(formatCountdown(3725)).toBe('1:02:05');
  });

  it('ticks down with time and stops at zero', () => {
    const { result } = renderHook(() => useCountdown('2026-05-01T12:00:03Z'));
    expect(result.current).toBe(3);
    act(() => vi.advanceTimersByTime(1_000));
    expect(result.current).toBe(2);
    act(() => vi.advanceTimersByTime(2_000));
    expect(result.current).toBe(0);
    act(() => vi.advanceTimersByTime(5_000));
    expect(result.current).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('renders the time left and says when the hold ran out', () => {
    render(<Countdown expiresAt="2026-05-01T12:01:05Z" />);
    expect(screen.getByTestId('hold-countdown').textContent).toContain('1:05');
    act(() => vi.advanceTimersByTime(65_000));
    expect(screen.getByTestId('hold-countdown').textContent).toContain('Hold time is up');
    expect(screen.getByTestId('hold-countdown').dataset.secondsLeft).toBe('0');
  });
});
