import { describe, expect, it } from 'vitest';
import { emptySection, toRfc3339, validateShow, type ShowDraft } from './validation';

const valid = (): ShowDraft => ({
  title: 'Hamlet',
  venue: 'Globe',
  startsAt: '2030-06-01T19:30:00Z',
  holdSeconds: '120',
  currency: 'EUR',
  sections: [
    { name: 'A', rows: '10', seatsPerRow: '20', price: '50.00' },
    { name: 'VIP1', rows: '2', seatsPerRow: '5', price: '0' },
  ],
});

function errorsOf(change: (d: ShowDraft) => void): Record<string, string> {
  const draft = valid();
  change(draft);
  const result = validateShow(draft);
  return result.ok ? {} : result.errors;
}

describe('show form validation', () => {
  it('turns a valid draft into the API body', () => {
    const result = validateShow(valid());
    expect(result).toEqual({
      ok: true,
      seats: 210,
      body: {
        title: 'Hamlet',
        venue: 'Globe',
        starts_at: '2030-06-01T19:30:00.000Z',
        hold_seconds: 120,
        currency: 'EUR',
        sections: [
          { name: 'A', rows: 10, seats_per_row: 20, price_cents: 5000 },
          { name: 'VIP1', rows: 2, seats_per_row: 5, price_cents: 0 },
        ],
      },
    });
  });

  it('checks title and venue: 1..200 characters (code points), no control characters', () => {
    expect(errorsOf((d) => (d.title = ''))).toHaveProperty('title');
    expect(errorsOf((d) => (d.title = 'x'.repeat(200)))).toEqual({});
    expect(errorsOf((d) => (d.title = 'x'.repeat(201)))).toHaveProperty('title');
    // 200 emoji are 400 UTF-16 units but 200 characters for the server
    expect(errorsOf((d) => (d.venue = '🎭'.repeat(200)))).toEqual({});
    expect(errorsOf((d) => (d.venue = 'Line\nbreak'))).toHaveProperty('venue');
    expect(errorsOf((d) => (d.venue = 'tab\there'))).toHaveProperty('venue');
    expect(errorsOf((d) => (d.venue = 'del\u007f'))).toHaveProperty('venue');
    expect(errorsOf((d) => (d.title = 'Café – Ünïcode'))).toEqual({});
  });

  it('requires a start time', () => {
    expect(errorsOf((d) => (d.startsAt = ''))).toHaveProperty('starts_at');
    expect(errorsOf((d) => (d.startsAt = 'tomorrow'))).toHaveProperty('starts_at');
    expect(errorsOf((d) => (d.startsAt = '2030-06-01T19:30'))).toEqual({});
    expect(toRfc3339('2030-06-01T19:30:00+02:00')).toBe('2030-06-01T17:30:00.000Z');
  });

  it('takes an opening of sales before the start and a fair start only after an opening', () => {
    expect(errorsOf((d) => (d.saleOpensAt = '2030-05-01T10:00'))).toEqual({});
    expect(errorsOf((d) => (d.saleOpensAt = '2030-06-01T19:30:00Z'))).toHaveProperty('sale_opens_at');
    expect(errorsOf((d) => (d.saleOpensAt = 'soon'))).toHaveProperty('sale_opens_at');
    expect(errorsOf((d) => (d.fairStartWindow = '10'))).toHaveProperty('fair_start_window_s');
    const draft = { ...valid(), saleOpensAt: '2030-05-01T10:00:00Z', fairStartWindow: '10' };
    expect(validateShow(draft)).toMatchObject({
      ok: true,
      body: { sale_opens_at: '2030-05-01T10:00:00.000Z', fair_start_window_s: 10 },
    });
    expect(errorsOf((d) => Object.assign(d, { saleOpensAt: '2030-05-01T10:00', fairStartWindow: '301' }))).toHaveProperty(
      'fair_start_window_s',
    );
    const plain = validateShow(valid());
    expect(plain.ok).toBe(true);
    expect(plain.ok && 'sale_opens_at' in plain.body).toBe(false); // without an opening: on sale at once
  });

  it('takes the cancellation terms: hours before the start or never, and a refund percentage', () => {
    const terms = validateShow({ ...valid(), cancellableUntilHours: '48', refundPercent: '80' });
    expect(terms).toMatchObject({ ok: true, body: { cancellable_until_hours: 48, refund_percent: 80 } });
    expect(validateShow({ ...valid(), cancellableUntilHours: 'never' })).toMatchObject({
      ok: true,
      body: { cancellable_until_hours: null },
    });
    expect(errorsOf((d) => (d.refundPercent = '101'))).toHaveProperty('refund_percent');
    expect(errorsOf((d) => (d.cancellableUntilHours = 'soon'))).toHaveProperty('cancellable_until_hours');
    const plain = validateShow(valid());
    expect(plain.ok && 'refund_percent' in plain.body).toBe(false); // the defaults: until the start, in full
  });

  it('checks hold seconds 10..3600 (default 120 when empty)', () => {
    expect(errorsOf((d) => (d.holdSeconds = '9'))).toHaveProperty('hold_seconds');
    expect(errorsOf((d) => (d.holdSeconds = '10'))).toEqual({});
    expect(errorsOf((d) => (d.holdSeconds = '3600'))).toEqual({});
    expect(errorsOf((d) => (d.holdSeconds = '3601'))).toHaveProperty('hold_seconds');
    expect(errorsOf((d) => (d.holdSeconds = '12.5'))).toHaveProperty('hold_seconds');
    const draft = valid();
    draft.holdSeconds = '';
    expect(validateShow(draft)).toMatchObject({ ok: true, body: { hold_seconds: 120 } });
  });

  it('checks 1..50 sections with unique names of 1..8 letters or digits', () => {
    expect(errorsOf((d) => (d.sections = []))).toHaveProperty('sections');
    expect(errorsOf((d) => (d.sections = Array.from({ length: 50 }, (_, i) => ({ ...emptySection(i), name: `S${i}`, rows: '1', seatsPerRow: '1' }))))).toEqual({});
    expect(errorsOf((d) => (d.sections = Array.from({ length: 51 }, (_, i) => ({ ...emptySection(i), name: `S${i}`, rows: '1', seatsPerRow: '1' }))))).toHaveProperty('sections');
    expect(errorsOf((d) => (d.sections[1].name = 'A'))).toHaveProperty(['sections.1.name']);
    // names are case-sensitive on the server: "a" and "A" are different sections
    expect(errorsOf((d) => (d.sections[1].name = 'a'))).toEqual({});
    for (const bad of ['', 'ABCDEFGHI', 'A-1', 'A B', 'Å']) {
      expect(errorsOf((d) => (d.sections[0].name = bad)), bad).toHaveProperty(['sections.0.name']);
    }
    expect(errorsOf((d) => (d.sections[0].name = 'ABCDEFGH'))).toEqual({});
  });

  it('checks rows and seats per row 1..200, price 0..10,000,000.00 in the currency’s units', () => {
    for (const [field, path] of [
      ['rows', 'rows'],
      ['seatsPerRow', 'seats_per_row'],
    ] as const) {
      expect(errorsOf((d) => (d.sections[0][field] = '0'))).toHaveProperty([`sections.0.${path}`]);
      expect(errorsOf((d) => (d.sections[0][field] = '201'))).toHaveProperty([`sections.0.${path}`]);
      expect(errorsOf((d) => (d.sections[0][field] = '-1'))).toHaveProperty([`sections.0.${path}`]);
      expect(errorsOf((d) => (d.sections[0][field] = '200'))).toEqual({});
    }
    expect(errorsOf((d) => (d.sections[0].price = '10000000.00'))).toEqual({});
    expect(errorsOf((d) => (d.sections[0].price = '10000000.01'))).toHaveProperty(['sections.0.price_cents']);
    expect(errorsOf((d) => (d.sections[0].price = '12.505'))).toHaveProperty(['sections.0.price_cents']);
    expect(errorsOf((d) => (d.sections[0].price = '-1'))).toHaveProperty(['sections.0.price_cents']);
    expect(errorsOf((d) => (d.sections[0].price = ''))).toHaveProperty(['sections.0.price_cents']);
  });

  it('sends prices in the currency’s minor units', () => {
    const euros = validateShow({ ...valid(), sections: [{ ...emptySection(0), price: '12,5' }] });
    expect(euros).toMatchObject({ ok: true, body: { currency: 'EUR', sections: [{ price_cents: 1250 }] } });
    const yen = validateShow({ ...valid(), currency: 'JPY', sections: [{ ...emptySection(0), price: '1200' }] });
    expect(yen).toMatchObject({ ok: true, body: { currency: 'JPY', sections: [{ price_cents: 1200 }] } });
    const fractionOfAYen = validateShow({ ...valid(), currency: 'JPY', sections: [{ ...emptySection(0), price: '12.50' }] });
    expect(fractionOfAYen.ok ? {} : fractionOfAYen.errors).toHaveProperty(['sections.0.price_cents']);
  });

  it('allows at most 100,000 seats in all', () => {
    const big = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `S${i}`, rows: '200', seatsPerRow: '100', price: '1' }));
    expect(validateShow({ ...valid(), sections: big(5) })).toMatchObject({ ok: true, seats: 100_000 });
    const over = validateShow({ ...valid(), sections: [...big(5), { name: 'X', rows: '1', seatsPerRow: '1', price: '1' }] });
    expect(over).toMatchObject({ ok: false, seats: 100_001 });
    expect(over.ok ? {} : over.errors).toHaveProperty('sections');
  });
});
