/** The shows feature's public surface (composed with other features in src/app). */
export { ShowList } from './components/ShowList';
export { ShowHeader } from './components/ShowHeader';
export { ShowSummary } from './components/ShowSummary';
export { refusedReason, useShow, useShowCreation, type ShowCreation } from './hooks/useShows';
export { showKey, showsKey } from './api/shows';
export { SaleNotice } from './components/SaleNotice';
export { useSalePhase } from './hooks/useSalePhase';
export { bookingBlocked, drawTime, salePhase, type SalePhase } from './model/sale';
