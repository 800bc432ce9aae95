import QRCode from 'qrcode';
import { useEffect, useState } from 'react';

/** A ticket's code as a QR code (rendered here, in the browser: nothing leaves the page). */
export function TicketQr({ code, label }: { code: string; label: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(code, { errorCorrectionLevel: 'M', margin: 2, width: 240 })
      .then((url) => live && setSrc(url))
      .catch(() => live && setSrc(null));
    return () => {
      live = false;
    };
  }, [code]);
  return src ? (
    <img src={src} width={240} height={240} alt={`QR code of the ticket for ${label}`} data-testid="ticket-qr" />
  ) : (
    <p className="muted">Drawing the QR code…</p>
  );
}
