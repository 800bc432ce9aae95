"""A real SMTP server (aiosmtpd) for tests, collecting what it receives; optionally refusing everything or slow."""

from __future__ import annotations

import asyncio
import email
import threading
from email.message import Message

from aiosmtpd.controller import Controller

from tests.support.processes import free_port


class _Collector:
    def __init__(self, refuse: bool, refuse_to: set[str], delay_s: float) -> None:
        self.refuse, self.delay_s = refuse, delay_s
        self.refuse_to = refuse_to
        self.messages: list[Message] = []
        self.attempts = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        with self._lock:
            self.attempts += 1
            if self.refuse or set(envelope.rcpt_tos) & self.refuse_to:
                return "451 4.3.0 Mail server temporarily unavailable"
            self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"


class SmtpSink:
    def __init__(self, refuse: bool = False, refuse_to: set[str] | None = None, delay_s: float = 0.0) -> None:
        """`refuse`: every message gets a temporary failure; `refuse_to`: only those for these addresses;
        `delay_s`: each message takes this long to be taken (a busy mail server)."""
        self.port = free_port()
        self.collector = _Collector(refuse, refuse_to or set(), delay_s)
        self._controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[Message]:
        return [m for m in self.collector.messages if m["To"] == address]
