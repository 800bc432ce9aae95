"""python -m notifier.mailsink: a real local SMTP server (aiosmtpd) for development. Every message is
written to $BOXOFFICE_STACK_DIR/mail/ as an .eml file."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from runtime.service import Service, run_service


class MaildirHandler:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._counter = itertools.count()
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        name = f"{time.time_ns()}-{next(self._counter)}.eml"
        (self._directory / name).write_bytes(envelope.original_content or b"")
        return "250 Message accepted for delivery"


async def main(service: Service) -> None:
    settings = service.settings
    handler = MaildirHandler(settings.stack_dir / "mail")
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(handler), settings.smtp_host, settings.smtp_port
    )
    service.log.info("mail sink listening", port=settings.smtp_port, directory=str(settings.stack_dir / "mail"))
    await service.lifecycle.stopping.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    run_service("mailsink", main, ops=False)
