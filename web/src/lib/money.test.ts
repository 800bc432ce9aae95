import { describe, expect, it } from 'vitest';
import { formatMoney, fractionDigits, parseMoney, toMajorText, totalOf } from './money';
import { seatName, seatNames } from './seat-names';

describe('money', () => {
  it('knows each currency’s digits from Intl', () => {
    expect(fractionDigits('EUR')).toBe(2);
    expect(fractionDigits('JPY')).toBe(0);
    expect(fractionDigits('BHD')).toBe(3);
  });

  it('formats minor units in the currency', () => {
    expect(formatMoney(1250, 'EUR', 'en')).toBe('€12.50');
    expect(formatMoney(1200, 'JPY', 'en')).toBe('¥1,200');
    expect(formatMoney(1250, 'BHD', 'en')).toMatch(/1\.250/);
    expect(formatMoney(0, 'USD', 'en')).toBe('$0.00');
    expect(formatMoney(1234567, 'EUR', 'de')).toMatch(/^12\.345,67\s€$/);
  });

  it('parses what people type into minor units, exactly', () => {
    expect(parseMoney('12.50', 'EUR')).toBe(1250);
    expect(parseMoney('12,5', 'EUR')).toBe(1250);
    expect(parseMoney(' 12 ', 'EUR')).toBe(1200);
    expect(parseMoney('0.29', 'EUR')).toBe(29); // 0.29 * 100 is 28.999… in floating point
    expect(parseMoney('12.', 'EUR')).toBe(1200);
    expect(parseMoney('1200', 'JPY')).toBe(1200);
    expect(parseMoney('1.250', 'BHD')).toBe(1250);
    for (const bad of ['', '-1', '12.345', '1e3', 'abc', '1,000.00', '.5']) expect(parseMoney(bad, 'EUR')).toBeNull();
    expect(parseMoney('12.5', 'JPY')).toBeNull();
  });

  it('shows minor units back for editing', () => {
    expect(toMajorText(1250, 'EUR')).toBe('12.50');
    expect(toMajorText(5, 'EUR')).toBe('0.05');
    expect(toMajorText(1200, 'JPY')).toBe('1200');
    expect(parseMoney(toMajorText(123456, 'KWD'), 'KWD')).toBe(123456);
  });

  it('totals seats by their sections’ prices', () => {
    const sections = [
      { name: 'A', price_cents: 1250 },
      { name: 'VIP1', price_cents: 9000 },
    ];
    expect(totalOf(['A-1-1', 'A-1-2', 'VIP1-2-5'], sections)).toBe(11500);
    expect(totalOf([], sections)).toBe(0);
    expect(totalOf(['Z-1-1'], sections)).toBe(0);
  });
});

describe('seat names', () => {
  it('reads an id as people say it', () => {
    expect(seatName('Stalls-3-6')).toBe('Stalls, row 3, seat 6');
    expect(seatName('odd')).toBe('odd');
    expect(seatNames(['A-1-1', 'A-1-2'])).toBe('A, row 1, seat 1; A, row 1, seat 2');
  });
});
