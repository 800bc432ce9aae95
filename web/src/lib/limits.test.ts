import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  SEATS_PER_SHOW_MAX,
  bookingLimits,
  codePoints,
  devTokenLimits,
  repeatBounds,
  showLimits,
  textProblem,
} from './limits';
import openapi from './openapi.json';

const schemas = openapi.components.schemas;
const web = fileURLToPath(new URL('../..', import.meta.url));

describe('limits from the OpenAPI document', () => {
  it('api-limits.ts is what openapi.json gives (scripts/gen-limits.mjs --check)', () => {
    expect(() => execFileSync(process.execPath, ['scripts/gen-limits.mjs', '--check'], { cwd: web, stdio: 'pipe' })).not.toThrow();
  });

  it("names the document's bounds for POST /v1/shows", () => {
    const show = schemas.CreateShowBody.properties;
    const section = schemas.Section.properties;
    expect(showLimits.title).toMatchObject({ minLength: show.title.minLength, maxLength: show.title.maxLength });
    expect(showLimits.venue).toMatchObject({ minLength: show.venue.minLength, maxLength: show.venue.maxLength });
    expect(showLimits.title.pattern.source).toBe(new RegExp(show.title.pattern, 'u').source);
    expect(showLimits.holdSeconds).toEqual({
      min: show.hold_seconds.minimum,
      max: show.hold_seconds.maximum,
      default: show.hold_seconds.default,
    });
    expect(showLimits.sections).toEqual({ min: show.sections.minItems, max: show.sections.maxItems });
    expect(showLimits.rows).toEqual({ min: section.rows.minimum, max: section.rows.maximum });
    expect(showLimits.seatsPerRow).toEqual({ min: section.seats_per_row.minimum, max: section.seats_per_row.maximum });
    expect(showLimits.priceCents).toEqual({ min: section.price_cents.minimum, max: section.price_cents.maximum });
    expect(showLimits.currency.default).toBe('EUR');
    expect(showLimits.currency.values).toEqual(expect.arrayContaining(['EUR', 'USD', 'JPY']));
  });

  it('names the booking limits (picked seats, best N, payment reference)', () => {
    const booking = schemas.BookingBody.properties;
    expect(bookingLimits.seats).toEqual({ min: booking.seats.minItems, max: booking.seats.maxItems });
    expect(bookingLimits.quantity).toEqual({ min: booking.quantity.minimum, max: booking.quantity.maximum });
    const reference = schemas.ConfirmBody.properties.payment_reference;
    expect(bookingLimits.paymentReference).toMatchObject({ minLength: reference.minLength, maxLength: reference.maxLength });
  });

  it('keeps the seat total, which JSON Schema cannot state, as the document words it', () => {
    // "the sections hold at most 100,000 seats in all": if the backend changes it, this fails
    expect(schemas.CreateShowBody.description).toContain(`at most ${SEATS_PER_SHOW_MAX.toLocaleString('en')} seats`);
    expect(showLimits.seats.max).toBe(SEATS_PER_SHOW_MAX);
  });

  it('reads the length of an id-like pattern from its repetition', () => {
    expect(repeatBounds('^(?:[A-Za-z0-9]{1,8})$')).toEqual({ min: 1, max: 8 });
    expect(repeatBounds('^(?:[A-Za-z0-9_.-]{1,64})$')).toEqual({ min: 1, max: 64 });
    expect(repeatBounds('^(?:[\\]a]{2,3})$')).toEqual({ min: 2, max: 3 });
    expect(repeatBounds('^(?:[^\\x00-\\x1f]*)$')).toBeNull();
    expect(repeatBounds('^(?:[A-Z]{1,8}-[0-9]{1,3})$')).toBeNull();
    expect(showLimits.sectionName).toMatchObject({ minLength: 1, maxLength: 8 });
    expect(devTokenLimits.sub).toMatchObject({ minLength: 1, maxLength: 64 });
  });

  it('checks texts as the server does: code points, bounds, pattern', () => {
    expect(codePoints('🎭🎭')).toBe(2);
    expect(textProblem('', showLimits.title)).toBe('empty');
    expect(textProblem('🎭'.repeat(showLimits.title.maxLength), showLimits.title)).toBeNull();
    expect(textProblem('x'.repeat(showLimits.title.maxLength + 1), showLimits.title)).toBe('long');
    expect(textProblem('a\tb', showLimits.title)).toBe('pattern');
    expect(textProblem('\u0085', showLimits.venue)).toBe('pattern');
    expect(textProblem('VIP1', showLimits.sectionName)).toBeNull();
    expect(textProblem('A-1', showLimits.sectionName)).toBe('pattern');
    expect(textProblem('ABCDEFGHI', showLimits.sectionName)).toBe('long');
    expect(textProblem('alice.b-1_x', devTokenLimits.sub)).toBeNull();
    expect(textProblem('al ice', devTokenLimits.sub)).toBe('pattern');
  });
});
