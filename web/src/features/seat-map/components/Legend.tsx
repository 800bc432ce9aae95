import { useEffect, useRef } from 'react';
import { LOOKS, paintBatch, type Look } from './draw';

const ENTRIES: Look[] = ['available', 'selected', 'held', 'booked', 'mine'];

function Swatch({ look }: { look: Look }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = 20 * dpr;
    canvas.height = 20 * dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    paintBatch(ctx, look, [2, 2], 1, 16);
  }, [look]);
  return <canvas ref={ref} width={20} height={20} style={{ width: 20, height: 20 }} aria-hidden="true" />;
}

/** The key to the map: each state's colour and its mark, in words too. */
export function Legend() {
  return (
    <ul className="legend" aria-label="Seat map legend" data-testid="seat-legend">
      {ENTRIES.map((look) => (
        <li key={look}>
          <Swatch look={look} />
          <span>
            {LOOKS[look].words} <span className="muted">({LOOKS[look].sign})</span>
          </span>
        </li>
      ))}
    </ul>
  );
}
