"""Tickets: one per seat of a CONFIRMED booking, with a code a scanner can verify offline.

A code is `BX1.<payload>.<signature>`: the payload is `show_id \n booking_id \n seat_id` (base64url, no
padding) and the signature is Ed25519 over `BX1.<payload>` with the show's key. Every show has its own key,
derived from the stack's ticket master key (HMAC-SHA256 of the show id: the same show always has the same key,
so a replay or a second intake signs the same codes, and one show's key tells nothing about another's). Its
public half is published at `GET /v1/shows/{show_id}/ticket-key`: a gate without a network verifies the
signature itself; whether the ticket is still valid (not cancelled, not used) is decided online by
`POST /v1/checkins`, in the show's queue.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from schemas.fields import ID_GRAMMAR, SEAT_GRAMMAR

VERSION = "BX1"
MAX_CODE_LENGTH = 512
_ID = re.compile(rf"\A{ID_GRAMMAR}\Z")
_SEAT = re.compile(rf"\A{SEAT_GRAMMAR}\Z")


class InvalidTicket(ValueError):
    """Not a ticket code of ours: malformed, or its signature does not verify."""


class Ticket(NamedTuple):
    show_id: str
    booking_id: str
    seat: str

    @property
    def ticket_id(self) -> str:
        return ticket_id(self.booking_id, self.seat)


def ticket_id(booking_id: str, seat: str) -> str:
    """A seat's ticket in a booking: stable, and unique within the show (a booking id is)."""
    return "tk_" + hashlib.sha256(f"{booking_id}\n{seat}".encode()).hexdigest()[:24]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or any(c not in _B64_ALPHABET for c in text):
        raise InvalidTicket("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidTicket("not base64url") from None


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def show_key(master: bytes, show_id: str) -> Ed25519PrivateKey:
    """The show's signing key, derived from the master key's 32 bytes."""
    seed = hmac.new(master, f"boxoffice ticket key\n{show_id}".encode(), hashlib.sha256).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def master_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32 bytes of the master key (a PEM file on disk, like the token keys)."""
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def public_key_text(key: Ed25519PublicKey) -> str:
    """The public key as base64url of its 32 raw bytes (what a scanner verifies with)."""
    return _b64(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def sign(key: Ed25519PrivateKey, ticket: Ticket) -> str:
    payload = _b64("\n".join(ticket).encode())
    signed = f"{VERSION}.{payload}"
    return f"{signed}.{_b64(key.sign(signed.encode()))}"


def parse(code: str) -> Ticket:
    """The ticket a code names, unverified (which show's key verifies it); InvalidTicket when malformed."""
    if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH:
        raise InvalidTicket("too long")
    parts = code.strip().split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise InvalidTicket(f"not a {VERSION} ticket code")
    try:
        fields = _unb64(parts[1]).decode().split("\n")
    except UnicodeDecodeError:
        raise InvalidTicket("payload is not text") from None
    if len(fields) != 3 or not _ID.match(fields[0]) or not _ID.match(fields[1]) or not _SEAT.match(fields[2]):
        raise InvalidTicket("payload is not show, booking and seat")
    return Ticket(*fields)


def verify(key: Ed25519PublicKey, code: str) -> Ticket:
    """The ticket, when the code is well formed and signed with `key`; else InvalidTicket."""
    ticket = parse(code)
    version, payload, signature = code.strip().split(".")
    try:
        key.verify(_unb64(signature), f"{version}.{payload}".encode())
    except InvalidSignature:
        raise InvalidTicket("signature does not verify") from None
    return ticket
