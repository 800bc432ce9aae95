import type { Section } from '../lib/types';

/** A venue of `total` seats in sections of 200 rows x 100 seats (the last one smaller). */
export function bigVenue(total: number): Section[] {
  const sections: Section[] = [];
  let left = total;
  for (let i = 0; left > 0; i++) {
    const seatsPerRow = 100;
    const rows = Math.min(200, Math.ceil(left / seatsPerRow));
    sections.push({ name: `S${i + 1}`, rows, seats_per_row: seatsPerRow, price_cents: 5000 });
    left -= rows * seatsPerRow;
  }
  return sections;
}
