import { useMutation } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { describeError } from '../../../lib/errors';
import { seatName } from '../../../lib/seat-names';
import type { Checkin } from '../../../lib/types';
import { checkIn } from '../api/checkins';

const VERDICT: Record<string, { text: string; tone: string }> = {
  admitted: { text: 'Admitted', tone: 'ok' },
  already_used: { text: 'Already used', tone: 'stop' },
  revoked: { text: 'Revoked', tone: 'stop' },
  invalid: { text: 'Not a valid ticket', tone: 'stop' },
};

interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}
type DetectorClass = new (options: { formats: string[] }) => Detector;

/** The camera's QR reader where the browser has one (BarcodeDetector: Chromium on Android, macOS, ChromeOS). */
function barcodeDetector(): DetectorClass | null {
  const found = (window as unknown as { BarcodeDetector?: DetectorClass }).BarcodeDetector;
  return found ?? null;
}

/** A gate's scanner: type or paste a ticket code (or read it with the camera), and see the door's answer. */
export function Scanner() {
  const [code, setCode] = useState('');
  const [gate, setGate] = useState('main');
  const [camera, setCamera] = useState(false);
  const codeId = useId();
  const gateId = useId();
  const scan = useMutation({ mutationFn: (c: string) => checkIn(c, gate.trim() || 'main') });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (code.trim()) scan.mutate(code.trim());
  };
  const onRead = (value: string) => {
    setCode(value);
    setCamera(false);
    scan.mutate(value);
  };
  return (
    <>
      <form onSubmit={submit} className="scanner-form" noValidate>
        <label htmlFor={gateId}>Gate</label>
        <input id={gateId} value={gate} maxLength={40} onChange={(e) => setGate(e.target.value)} data-testid="scan-gate" />
        <label htmlFor={codeId}>Ticket code</label>
        <textarea
          id={codeId}
          value={code}
          rows={3}
          onChange={(e) => setCode(e.target.value)}
          data-testid="scan-code"
          placeholder="BX1.…"
        />
        <button type="submit" data-testid="scan-submit" disabled={scan.isPending || !code.trim()}>
          Check in
        </button>
        {barcodeDetector() && (
          <button type="button" className="secondary" onClick={() => setCamera((on) => !on)} data-testid="scan-camera">
            {camera ? 'Stop the camera' : 'Read with the camera'}
          </button>
        )}
      </form>
      {camera && <CameraReader onRead={onRead} />}
      {scan.isPending && <p role="status">Checking…</p>}
      {scan.error && (
        <p className="error" role="alert">
          {describeError(scan.error)}
        </p>
      )}
      {scan.data && <Verdict answer={scan.data} />}
    </>
  );
}

function Verdict({ answer }: { answer: Checkin }) {
  const verdict = answer.result ? VERDICT[answer.result] : { text: 'Queued, not decided yet', tone: 'wait' };
  return (
    <section
      className={`verdict verdict-${verdict.tone}`}
      role="alert"
      data-testid="scan-result"
      data-result={answer.result ?? 'RECEIVED'}
    >
      <p className="verdict-text">{verdict.text}</p>
      {answer.seat && <p>{seatName(answer.seat)}</p>}
      {answer.result === 'already_used' && answer.checked_in_at && (
        <p data-testid="scan-first-use">
          First admitted {new Date(answer.checked_in_at).toLocaleString()} at gate {answer.checked_in_gate}.
        </p>
      )}
      {answer.result === 'revoked' && <p>The booking is {answer.booking_status?.toLowerCase() ?? 'no longer valid'}.</p>}
      {answer.reason && <p className="muted">{answer.reason}</p>}
    </section>
  );
}

function CameraReader({ onRead }: { onRead: (code: string) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    const Detector = barcodeDetector();
    if (!Detector) return;
    const detector = new Detector({ formats: ['qr_code'] });
    let stream: MediaStream | null = null;
    let timer = 0;
    let live = true;
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: 'environment' } })
      .then(async (s) => {
        stream = s;
        if (!video.current || !live) return;
        video.current.srcObject = s;
        await video.current.play();
        const look = async () => {
          if (!live || !video.current) return;
          const found = await detector.detect(video.current).catch(() => []);
          if (found.length > 0) onRead(found[0].rawValue);
          else timer = window.setTimeout(look, 250);
        };
        void look();
      })
      .catch((err: unknown) => setProblem(`The camera is not available: ${String(err)}`));
    return () => {
      live = false;
      window.clearTimeout(timer);
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, [onRead]);
  return (
    <div className="camera">
      {/* biome-ignore lint: a live preview has no captions */}
      <video ref={video} muted playsInline width={320} height={240} aria-label="Camera preview" />
      {problem && <p className="error">{problem}</p>}
    </div>
  );
}
