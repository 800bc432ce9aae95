import { useCallback, useEffect, useRef, useState } from 'react';
import { seatName, seatNames } from '../../../lib/seat-names';
import { displayState, type DisplayState, type SeatMap } from '../model/seat-map';
import { pruneSelection, toggleMessage, toggleSeat } from '../model/selection';

export interface SeatSelection {
  selected: string[];
  /** The last thing worth announcing (limit reached, seat taken...), for a polite live region. */
  message: string | null;
  toggle(seatId: string, state: DisplayState, label: string): void;
  clear(): void;
}

/** Seats picked on the map; seats that someone else takes meanwhile drop out, with a message. */
export function useSeatSelection(map: SeatMap, revision: number, mine: readonly string[]): SeatSelection {
  const [selected, setSelectedState] = useState<string[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const current = useRef<string[]>([]);
  const setSelected = useCallback((next: string[]) => {
    current.current = next;
    setSelectedState(next);
  }, []);

  useEffect(() => {
    setSelected([]);
    setMessage(null);
  }, [map, setSelected]);

  useEffect(() => {
    if (map.version < 0 || current.current.length === 0) return;
    const mineSet = new Set(mine.map((id) => map.indexOf(id)));
    const { selected: kept, dropped } = pruneSelection(current.current, (id) => {
      const index = map.indexOf(id);
      return index < 0 ? undefined : displayState(map, index, mineSet);
    });
    if (dropped.length > 0) {
      setSelected(kept);
      setMessage(`No longer available, removed from your selection: ${seatNames(dropped)}.`);
    }
  }, [map, revision, mine, setSelected]);

  const toggle = useCallback(
    (seatId: string, state: DisplayState, label: string) => {
      const result = toggleSeat(current.current, seatId, state);
      setSelected(result.selected);
      const n = result.selected.length;
      setMessage(
        toggleMessage(result.outcome, label) ??
          (result.outcome === 'added' ? `Picked ${seatName(seatId)}. ${n} selected.` : `Removed ${seatName(seatId)}. ${n} selected.`),
      );
    },
    [setSelected],
  );

  const clear = useCallback(() => {
    setSelected([]);
    setMessage(null);
  }, [setSelected]);

  return { selected, message, toggle, clear };
}
