/** Friendly names for the generated API types (src/lib/api-types.ts, from the OpenAPI document). */
import type { components } from './api-types';
import type { QueueFields } from './api-types.pending';

type Schemas = components['schemas'];

export type Section = Schemas['Section'];
/** The document marks no field of a show as required; the contract (shared/API.md) always sends them. */
export type Show = Required<Schemas['Show']>;
export type SeatMapSnapshot = Required<Schemas['SeatMap']>;
export type BookingStatus = NonNullable<Schemas['Booking']['status']>;
export type Booking = Required<Schemas['Booking']> & QueueFields;
export type Accepted = Required<Schemas['Accepted']>;
export type CreateShowBody = Schemas['CreateShow'];
export type BookingRequest = Schemas['BookingRequest'];
export type ApiErrorBody = Schemas['Error'];

export interface ShowsPage {
  shows: Show[];
  next_cursor?: string;
}

export interface BookingsPage {
  bookings: Booking[];
  next_cursor?: string;
}
