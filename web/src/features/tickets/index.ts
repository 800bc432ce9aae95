/** The tickets feature's public surface: a CONFIRMED booking's signed tickets as QR codes. */
export { Tickets } from './components/Tickets';
