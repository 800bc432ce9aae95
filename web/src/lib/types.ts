/**
 * Friendly names for the generated API types (src/lib/api-types.ts, from the backend's OpenAPI document:
 * `npm run gen:api`). Nothing here is written by hand but the names.
 */
import type { components } from './api-types';

type Schemas = components['schemas'];

export type Section = Schemas['Section'];
export type Show = Schemas['ShowView'];
export type SeatMapSnapshot = Schemas['SeatMapView'];
export type Booking = Schemas['BookingView'];
export type BookingStatus = Booking['status'];
/** A confirm or cancel that could not be applied (`refused` on a booking). */
export type Refusal = Schemas['Refusal'];
export type Accepted = Schemas['Accepted'];
export type ShowAccepted = Schemas['ShowAccepted'];
export type CreateShowBody = Schemas['CreateShowBody'];
export type UpdateShowBody = Schemas['UpdateShowBody'];
export type BookingRequest = Schemas['BookingBody'];
export type ApiErrorBody = Schemas['ErrorBody'];
export type ShowsPage = Schemas['ShowList'];
export type BookingsPage = Schemas['BookingList'];
export type DevTokenRequest = Schemas['DevTokenBody'];
export type DevTokenResponse = Schemas['DevToken'];
/** My place on a show's waiting list (GET /v1/shows/{id}/waitlist/me). */
export type WaitlistPlace = Schemas['WaitlistView'];
export type WaitlistRequest = Schemas['WaitlistBody'];
/** A hosted checkout at the payment provider (POST /v1/bookings/{id}/checkout). */
export type Checkout = Schemas['CheckoutView'];
export type Payment = Schemas['Payment'];
export type TicketList = Schemas['TicketList'];
export type Ticket = Schemas['TicketView'];
export type Checkin = Schemas['CheckinView'];
/** A show with its sales per section (GET /v1/admin/shows). */
export type AdminShow = Schemas['AdminShowView'];

/** Data of the seat stream's `change` event (`id:` is the version). */
export type SeatChangeEvent = Schemas['ShowChange'];
export type StreamedSeatState = Schemas['SeatChange']['state'];
/** Data of the seat stream's `heartbeat` (the show's current version) and `reset` (refetch /seats) events. */
export type StreamMark = Schemas['StreamMark'];
