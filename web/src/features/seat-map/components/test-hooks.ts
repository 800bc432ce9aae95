/**
 * For browser tests: any seat's state of the open map, visible or not (the seat layer has elements only for
 * the seats in view). Installed in every build but the production one (SeatMapView); tests/browser/pages.py reads them.
 */
import { displayState, type DisplayState, type SeatMap } from '../model/seat-map';

declare global {
  interface Window {
    /** For browser tests: the state a person sees of any seat of the open map, visible or not. */
    __seatState?: (seatId: string) => DisplayState | null;
    /** For browser tests: the seat's state in the map itself (`mine` is held or booked here). */
    __seatMapState?: (seatId: string) => 'available' | 'held' | 'booked' | null;
  }
}

export interface LiveMap {
  current: { map: SeatMap; mine: ReadonlySet<number> };
}

/** Puts the readers on window; returns their removal. */
export function exposeSeatStates(live: LiveMap): () => void {
  window.__seatState = (seatId: string) => {
    const { map: m, mine: mi } = live.current;
    const index = m.indexOf(seatId);
    return index < 0 || m.version < 0 ? null : displayState(m, index, mi);
  };
  window.__seatMapState = (seatId: string) => {
    const m = live.current.map;
    const index = m.indexOf(seatId);
    return index < 0 || m.version < 0 ? null : (displayState(m, index, new Set()) as 'available' | 'held' | 'booked');
  };
  return () => {
    delete window.__seatState;
    delete window.__seatMapState;
  };
}
