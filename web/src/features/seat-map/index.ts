/** The seat-map feature's public surface (composed with other features in src/app). */
export { SeatMapView } from './components/SeatMapView';
export { Legend } from './components/Legend';
export { LiveIndicator } from './components/LiveIndicator';
export { useLiveSeatMap } from './hooks/useLiveSeatMap';
export { useSeatSelection } from './hooks/useSeatSelection';
export { SeatMap, displayState, type DisplayState } from './model/seat-map';
export { MAX_SELECTED_SEATS } from './model/selection';
export { SeatSync } from './model/seat-sync';
export type { EventSourceLike, LiveStatus } from './model/live-seat-map';
