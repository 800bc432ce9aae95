/** The bookings feature's public surface (composed with other features in src/app). */
export { BookingForm } from './components/BookingForm';
export { BookingStatusPanel } from './components/BookingStatusPanel';
export { MyBookings } from './components/MyBookings';
export { useMyLiveSeats } from './hooks/useMyLiveSeats';
