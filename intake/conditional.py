"""Conditional reads: entity tags (`ETag`), `If-None-Match` (RFC 9110 §13.1.2) and `Prefer: wait=N` (RFC 7240).

Every tag is strong: it changes whenever the body of a 200 would change.
- A show and its seat map: the show's version (`"v12"`); a version fixes the whole show and the whole map, in
  every generation of the read models.
- A page of the show listing: a digest of the page's bytes, so it changes whenever any listed show changes
  (its availability), a show joins or leaves the page, or the next cursor moves.
- A booking: a digest of its state (the body without its place in line) and, while RECEIVED, a second part,
  a digest of its place in line (`queue_position`, `estimated_wait_s`): `"<state>.<place>"`. The two parts
  let a waiting request tell a decision (the state moved: answer at once) from a step forward in the line
  (the place moved: answered at a slower pace, intake/booking_waits.py).

Both request headers are read leniently: a malformed one is answered as if it were absent (RFC 7240 says
an unknown or malformed preference is ignored; an `If-None-Match` that cannot be parsed matches nothing).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import msgspec
from starlette.responses import Response

from schemas.api import BookingView

MAX_WAIT_S = 30  # the longest `Prefer: wait=N` honoured; NGINX's read timeout for the route is above it
_encoder = msgspec.json.Encoder()
# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3)
_TAG = re.compile(r'[ \t]*(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*')
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@dataclass(frozen=True, slots=True)
class EntityTags:
    """What an `If-None-Match` header names: any representation (`*`), or these opaque tags (quoted; a weak
    tag `W/"x"` is kept as `"x"`: If-None-Match compares weakly)."""

    tags: frozenset[str] = frozenset()
    any: bool = False

    def matches(self, tag: str) -> bool:
        return self.any or tag in self.tags

    def same_state(self, tag: str) -> bool:
        """One of the tags names the same state as `tag` (a booking's tags may differ in the place only)."""
        return self.matches(tag) or state_of(tag) in {state_of(t) for t in self.tags}


def entity_tags(value: str) -> EntityTags | None:
    """The tags of an If-None-Match value (several header lines joined by commas); None when malformed."""
    if value.strip() == "*":
        return EntityTags(any=True)
    tags = set()
    for element in _split(value, ","):
        if not element.strip():
            continue  # the list rule allows empty elements
        match = _TAG.fullmatch(element)
        if match is None:
            return None
        tags.add(match[1])
    return EntityTags(frozenset(tags)) if tags else None


def prefer_wait(value: str) -> int | None:
    """The `wait` preference of a Prefer value (several header lines joined by commas), when it is an integer
    of 1..MAX_WAIT_S seconds; None otherwise (absent, malformed, out of range: the preference is ignored).
    Only the first `wait` counts (RFC 7240 §2); names are case-insensitive, values may be quoted."""
    for element in _split(value, ","):
        head = _split(element, ";")[0]
        name, has_value, raw = head.partition("=")
        name = name.strip()
        if not _TOKEN.fullmatch(name) or name.lower() != "wait":
            continue
        seconds = raw.strip()
        if len(seconds) >= 2 and seconds[0] == seconds[-1] == '"':
            seconds = seconds[1:-1]
        if not has_value or not (seconds.isascii() and seconds.isdigit() and len(seconds) <= 4):
            return None
        return int(seconds) if 1 <= int(seconds) <= MAX_WAIT_S else None
    return None


def _split(value: str, separator: str) -> list[str]:
    """`value` split at each `separator` outside a quoted string."""
    parts, current, quoted, escaped = [], [], False, False
    for char in value:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def version_tag(version: int) -> str:
    """A show's (or its seat map's) tag: its version."""
    return f'"v{version}"'


def digest_tag(body: bytes) -> str:
    """The tag of a body that is not versioned as a whole (a page of the listing): a digest of its bytes."""
    return f'"{hashlib.sha256(body).hexdigest()[:24]}"'


def booking_tag(booking: BookingView) -> str:
    """`"<state>"`, or `"<state>.<place>"` while the booking has a place in line (see the module's notes)."""
    still = msgspec.structs.replace(booking, queue_position=None, estimated_wait_s=None)
    state = hashlib.sha256(_encoder.encode(still)).hexdigest()[:20]
    if booking.queue_position is None and booking.estimated_wait_s is None:
        return f'"{state}"'
    place = hashlib.sha256(_encoder.encode([booking.queue_position, booking.estimated_wait_s])).hexdigest()[:8]
    return f'"{state}.{place}"'


def state_of(tag: str) -> str:
    """The state part of a booking's tag (the whole tag for any other)."""
    return tag.strip('"').split(".", 1)[0]


def not_modified(tag: str, headers: dict[str, str] | None = None) -> Response:
    """304: the client's copy is current (no body; the tag, as a 200 would carry it)."""
    return Response(status_code=304, headers={"ETag": tag, **(headers or {})})
