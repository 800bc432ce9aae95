"""Show titles and venues: what people read is what was meant (issue 18, item 6)."""

from __future__ import annotations

import msgspec
import pytest

from schemas.api import CreateShowBody
from schemas.commands import decode_command
from schemas.validation import SchemaError, decode

DECODER = msgspec.json.Decoder(CreateShowBody)
BODY = {
    "title": "t",
    "venue": "v",
    "starts_at": "2027-01-01T00:00:00Z",
    "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}],
}

REFUSED = {
    "right-to-left override": "\u202etxet",
    "left-to-right embedding": "a\u202ab",
    "pop directional formatting": "a\u202c",
    "isolates": "a\u2066b\u2069",
    "first-strong isolate": "\u2068x",
    "left-to-right mark": "\u200eleft",
    "right-to-left mark": "x\u200f",
    "arabic letter mark": "\u061cx",
    "zero-width space": "zero\u200bwidth",
    "zero-width non-joiner": "a\u200cb",
    "zero-width joiner": "a\u200db",
    "word joiner": "w\u2060j",
    "byte order mark": "\ufeffbom",
    "spaces only": "   ",
    "ideographic space only": "\u3000",
    "no-break spaces only": "\u00a0\u00a0",
    "empty": "",
    "a tab": "\tx",
    "a newline": "x\n",
    "NUL": "a\x00b",
    "C1 control": "c1\x9c",
}


@pytest.mark.parametrize("field", ["title", "venue"])
@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_refused_naming_the_path(field, text):
    with pytest.raises(SchemaError) as refused:
        decode(msgspec.json.encode({**BODY, field: text}), DECODER)
    assert refused.value.path == f"$.{field}"
    assert "regex" not in refused.value.reason  # said in words, not as the pattern


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("Cafe\u0301", "Caf\u00e9"),  # NFC: one spelling of é
        ("  Hamlet  ", "Hamlet"),
        ("\u3000Globe\u00a0", "Globe"),
        ("\u00c9t\u00e9 \u2014 \U0001f3ad", "\u00c9t\u00e9 \u2014 \U0001f3ad"),
        ("\u05e9\u05dc\u05d5\u05dd", "\u05e9\u05dc\u05d5\u05dd"),  # right-to-left script is fine; its controls are not
        ("x" * 200, "x" * 200),
    ],
)
def test_accepted_text_is_stored_nfc_normalised_and_trimmed(text, stored):
    body = decode(msgspec.json.encode({**BODY, "title": text, "venue": text}), DECODER)
    assert (body.title, body.venue) == (stored, stored)


def test_text_that_nfc_lengthens_past_the_limit_is_refused():
    with pytest.raises(SchemaError, match="NFC"):
        decode(msgspec.json.encode({**BODY, "title": "\u0958" * 200}), DECODER)  # each decomposes into two


def test_the_processor_decodes_what_the_intake_accepts():
    """The command carries the normalised text, which the processor's (looser) type takes."""
    from schemas.commands import CreateShow, encode_command

    body = decode(msgspec.json.encode({**BODY, "title": " Cafe\u0301 "}), DECODER)
    command = CreateShow(
        command_id="c",
        show_id="sh_1",
        issued_at=body.starts_at,
        title=body.title,
        venue=body.venue,
        starts_at=body.starts_at,
        hold_seconds=120,
        sections=body.sections,
    )
    assert decode_command(encode_command(command)).title == "Caf\u00e9"
