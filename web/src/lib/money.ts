/**
 * Money as the API has it: integers in the minor units of the show's currency (ISO 4217: cents for EUR,
 * yen for JPY, which has none, fils for BHD, three digits). Shown and entered in the currency's own units
 * with Intl.NumberFormat, whose digits per currency are the ones the backend's allow-list uses
 * (schemas/money.py). Parsing never goes through floating point: "12.34" is 1234, exactly.
 */

const formats = new Map<string, Intl.NumberFormat>();

function currencyFormat(currency: string, locale?: string): Intl.NumberFormat {
  const key = `${locale ?? ''}|${currency}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency });
    formats.set(key, format);
  }
  return format;
}

/** Digits after the decimal point of the currency: 2 for EUR, 0 for JPY, 3 for BHD. */
export function fractionDigits(currency: string): number {
  return currencyFormat(currency, 'en').resolvedOptions().maximumFractionDigits ?? 2;
}

/** `minor` units as people read them in their locale: "€12.50", "¥1,200". */
export function formatMoney(minor: number, currency: string, locale?: string): string {
  return currencyFormat(currency, locale).format(minor / 10 ** fractionDigits(currency));
}

/** An amount in the currency's units as typed ("12", "12.5", "12.50", "12,50") → minor units, or null when
 * it is not a non-negative amount with at most the currency's digits. */
export function parseMoney(text: string, currency: string): number | null {
  const digits = fractionDigits(currency);
  const match = /^(\d{1,13})(?:[.,](\d*))?$/.exec(text.trim());
  if (!match) return null;
  const [, whole, fraction = ''] = match;
  if (fraction.length > digits) return null;
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
}

/** Minor units as the form shows them for editing, no symbol or grouping: 1250 → "12.50", JPY 1200 → "1200". */
export function toMajorText(minor: number, currency: string): string {
  const digits = fractionDigits(currency);
  if (digits === 0) return String(minor);
  const text = String(minor).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** The price of seats: the sum of their sections' prices (seat ids `{section}-{row}-{seat}`); a seat of a
 * section the layout does not have counts nothing, as on the server (schemas/layout.py `price_of`). */
export function totalOf(seats: readonly string[], sections: readonly { name: string; price_cents: number }[]): number {
  const prices = new Map(sections.map((s) => [s.name, s.price_cents]));
  return seats.reduce((sum, seat) => sum + (prices.get(seat.split('-', 1)[0]) ?? 0), 0);
}

/** A show's or booking's currency; shows created before currencies existed are in EUR (as the API reads them). */
export function currencyOf(value: { currency?: string | null }): string {
  return value.currency ?? 'EUR';
}
