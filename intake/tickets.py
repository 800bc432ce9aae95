"""The intake's ticket keys: the stack's master key (read once at start) and each show's key derived from it
(schemas/tickets.py), kept for the shows seen recently. The intake signs a CONFIRMED booking's tickets when
they are asked for (Ed25519 is deterministic: the same ticket always has the same code) and verifies a code
before its scan is queued, so nothing forged reaches the show's partition."""

from __future__ import annotations

from pathlib import Path

from cachetools import LRUCache
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runtime.auth_keys import read_private_key
from schemas import tickets


class TicketKeys:
    def __init__(self, master: Ed25519PrivateKey) -> None:
        self._master = tickets.master_bytes(master)
        self._keys: LRUCache[str, Ed25519PrivateKey] = LRUCache(maxsize=10_000)

    @classmethod
    def load(cls, path: Path) -> TicketKeys:
        return cls(read_private_key(path))

    def signing(self, show_id: str) -> Ed25519PrivateKey:
        key = self._keys.get(show_id)
        if key is None:
            key = self._keys[show_id] = tickets.show_key(self._master, show_id)
        return key

    def sign(self, show_id: str, booking_id: str, seat: str) -> str:
        return tickets.sign(self.signing(show_id), tickets.Ticket(show_id, booking_id, seat))

    def verify(self, code: str) -> tickets.Ticket:
        """The ticket a code names when its show's key signed it; InvalidTicket otherwise."""
        ticket = tickets.parse(code)
        return tickets.verify(self.signing(ticket.show_id).public_key(), code)

    def public_key(self, show_id: str) -> str:
        return tickets.public_key_text(self.signing(show_id).public_key())
