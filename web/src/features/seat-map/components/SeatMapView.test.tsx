// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SeatMap } from '../model/seat-map';
import { defaultCellSize, SeatMapView } from './SeatMapView';

function smallMap() {
  const map = new SeatMap([
    { name: 'A', rows: 3, seats_per_row: 4, price_cents: 1000 },
    { name: 'B', rows: 2, seats_per_row: 3, price_cents: 2000 },
  ]);
  map.loadSnapshot({ version: 3, held: ['A-1-2'], booked: ['A-1-3', 'B-1-1'] });
  return map;
}

describe('SeatMapView', () => {
  beforeEach(() => {
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
  });
  afterEach(() => {
    cleanup();
    vi.restoreAllMocks();
  });

  it('gives each seat its price in the show’s currency as its tooltip', () => {
    render(<SeatMapView map={smallMap()} revision={0} mine={[]} selected={[]} onToggle={() => {}} title="Test" currency="USD" />);
    const seat = screen.getByRole('button', { name: 'Section B, row 2, seat 3, available' });
    expect(seat.getAttribute('title')).toBe('Section B, row 2, seat 3, available · $20.00');
  });

  it('names every seat by section, row, seat and state, with data attributes for tests', () => {
    const map = smallMap();
    render(<SeatMapView map={map} revision={0} mine={['B-1-1']} selected={[]} onToggle={() => {}} title="Test" />);
    const seat = screen.getByRole('button', { name: 'Section A, row 1, seat 2, held' });
    expect(seat.dataset.seatId).toBe('A-1-2');
    expect(seat.dataset.state).toBe('held');
    expect(screen.getByLabelText('Section A, row 1, seat 3, booked')).toBeTruthy();
    expect(screen.getByLabelText('Section B, row 1, seat 1, mine, booked')).toBeTruthy();
    expect(screen.getAllByRole('button', { name: /^Section / })).toHaveLength(18);
    expect(window.__seatState?.('B-1-1')).toBe('mine');
    expect(window.__seatMapState?.('B-1-1')).toBe('booked');
    expect(window.__seatState?.('A-3-4')).toBe('available');
    expect(window.__seatState?.('Z-1-1')).toBeNull();
  });

  it('reports clicks with the seat state and label', () => {
    const onToggle = vi.fn();
    render(<SeatMapView map={smallMap()} revision={0} mine={[]} selected={['A-2-1']} onToggle={onToggle} title="T" />);
    fireEvent.click(screen.getByLabelText('Section A, row 1, seat 1, available'));
    expect(onToggle).toHaveBeenCalledWith('A-1-1', 'available', 'Section A, row 1, seat 1, available');
    expect(screen.getByLabelText('Section A, row 2, seat 1, available').getAttribute('aria-pressed')).toBe('true');
  });

  it('keeps one seat in the tab order and moves it with the arrow keys', () => {
    const onToggle = vi.fn();
    render(<SeatMapView map={smallMap()} revision={0} mine={[]} selected={[]} onToggle={onToggle} title="T" />);
    const tabbable = document.querySelectorAll('.seat[tabindex="0"]');
    expect(tabbable).toHaveLength(1);
    const first = tabbable[0] as HTMLElement;
    expect(first.dataset.seatId).toBe('A-1-1');
    first.focus();
    fireEvent.keyDown(first, { key: 'ArrowRight' });
    expect(document.activeElement?.getAttribute('data-seat-id')).toBe('A-1-2');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(document.activeElement?.getAttribute('aria-label')).toBe('Section B, row 1, seat 2, available');
    expect(document.querySelectorAll('.seat[tabindex="0"]')).toHaveLength(1);
    // Enter on a button is a click
    fireEvent.click(document.activeElement!);
    expect(onToggle).toHaveBeenCalledWith('B-1-2', 'available', 'Section B, row 1, seat 2, available');
  });

  it('shows the seat\'s name and price beside it on focus, and a stage mark', () => {
    render(<SeatMapView map={smallMap()} revision={0} mine={[]} selected={[]} onToggle={() => {}} title="T" currency="USD" />);
    expect(screen.getByTestId('stage')).toBeTruthy();
    const seat = document.querySelector<HTMLElement>('[data-seat-id="A-1-1"]');
    act(() => seat?.focus());
    expect(screen.getByTestId('seat-tip').textContent).toMatch(/Section A, row 1, seat 1, available · \$/);
  });
  it('gives touch screens seats big enough for a finger', () => {
    expect(defaultCellSize(500, true)).toBe(32);
    expect(defaultCellSize(500, false)).toBe(24);
    expect(defaultCellSize(50_000, true)).toBe(16);
  });
});
