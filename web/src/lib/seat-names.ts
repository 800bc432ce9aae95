/** Seat ids are `{section}-{row}-{seat}` (shared/API.md); people read "Stalls, row 3, seat 6". */
export function seatName(seatId: string): string {
  const parts = seatId.split('-');
  if (parts.length !== 3) return seatId;
  const [section, row, seat] = parts;
  return `${section}, row ${row}, seat ${seat}`;
}

/** Several seats for a sentence: "A, row 1, seat 1; A, row 1, seat 2". */
export function seatNames(seatIds: readonly string[]): string {
  return seatIds.map(seatName).join('; ');
}
