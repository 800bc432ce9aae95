"""Decoding with the typed contract. Every refusal is one SchemaError with a JSON path and a reason."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from schemas.fields import SHOW_TEXT_PATTERN, SHOW_TEXT_RULE, format_time  # format_time re-exported: one spelling

__all__ = ["SchemaError", "convert", "decode", "format_time"]

T = TypeVar("T")
_AT = re.compile(r"^(?P<reason>.*) - at `(?P<path>[^`]*)`$", re.DOTALL)
_ANCHORED = re.compile(r"\\\\A\(\?:(.*)\)\\\\Z")
# Patterns that would say little to a person, by the complaint msgspec makes, and what to say instead.
# (msgspec quotes the pattern with its backslashes doubled.)
_RULES = {f"Expected `str` matching regex '^{SHOW_TEXT_PATTERN}$'".replace("\\", "\\\\"): SHOW_TEXT_RULE}


class SchemaError(ValueError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    @classmethod
    def from_msgspec(cls, exc: msgspec.MsgspecError, prefix: str = "$") -> SchemaError:
        text = str(exc)
        match = _AT.match(text)
        if match is None:
            return cls(prefix, text)
        path = match["path"]
        reason = _ANCHORED.sub(r"^\1$", match["reason"])  # the pattern as the OpenAPI document spells it
        reason = _RULES.get(reason, reason)
        return cls(prefix + path[1:] if path.startswith("$") else path, reason)


def decode(raw: bytes | str, decoder: msgspec.json.Decoder[T]) -> T:
    """Strict JSON decoding with one of the contract's decoders; malformed JSON and invalid values alike
    become a SchemaError (use `is_malformed` to tell them apart)."""
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise SchemaError.from_msgspec(exc) from None
    except msgspec.DecodeError as exc:
        raise MalformedJson("$", f"not valid JSON ({exc})") from None


def convert(value: Any, kind: type[T], path: str = "$") -> T:
    """Validate an already-parsed value (a query parameter, a token claim) with a contract type."""
    try:
        return msgspec.convert(value, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise SchemaError.from_msgspec(exc, path) from None


class MalformedJson(SchemaError):
    """Not JSON at all (as opposed to JSON with invalid values)."""
