"""Small typed readers for JSON objects. Every failure is a SchemaError with a path and a reason."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson


class SchemaError(ValueError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def loads(raw: bytes | str, path: str = "$") -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SchemaError(path, f"not valid JSON ({exc})") from None


def as_object(value: Any, path: str, allowed: set[str] | frozenset[str] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaError(path, "must be an object")
    if allowed is not None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise SchemaError(f"{path}.{unknown[0]}", "unknown field")
    return value


def get_str(
    obj: dict[str, Any], key: str, path: str, *, min_len: int = 1, max_len: int = 1000,
    pattern: re.Pattern[str] | None = None, optional: bool = False,
) -> str | None:
    value = obj.get(key)
    where = f"{path}.{key}"
    if value is None:
        if optional:
            return None
        raise SchemaError(where, "is required")
    if not isinstance(value, str):
        raise SchemaError(where, "must be a string")
    if not min_len <= len(value) <= max_len:
        raise SchemaError(where, f"length must be {min_len}..{max_len}")
    if pattern is not None and not pattern.fullmatch(value):
        raise SchemaError(where, f"must match {pattern.pattern}")
    return value


def req_str(obj: dict[str, Any], key: str, path: str, **kw: Any) -> str:
    value = get_str(obj, key, path, **kw)
    assert value is not None
    return value


def get_int(
    obj: dict[str, Any], key: str, path: str, *, lo: int, hi: int, default: int | None = None,
    optional: bool = False,
) -> int | None:
    value = obj.get(key)
    where = f"{path}.{key}"
    if value is None:
        if default is not None or optional:
            return default
        raise SchemaError(where, "is required")
    if not isinstance(value, int) or isinstance(value, bool):
        raise SchemaError(where, "must be an integer")
    if not lo <= value <= hi:
        raise SchemaError(where, f"must be between {lo} and {hi}")
    return value


def req_int(obj: dict[str, Any], key: str, path: str, *, lo: int, hi: int, default: int | None = None) -> int:
    value = get_int(obj, key, path, lo=lo, hi=hi, default=default)
    assert value is not None
    return value


def get_list(obj: dict[str, Any], key: str, path: str, *, lo: int, hi: int, optional: bool = False) -> list | None:
    value = obj.get(key)
    where = f"{path}.{key}"
    if value is None:
        if optional:
            return None
        raise SchemaError(where, "is required")
    if not isinstance(value, list):
        raise SchemaError(where, "must be an array")
    if not lo <= len(value) <= hi:
        raise SchemaError(where, f"must have {lo}..{hi} items")
    return value


def parse_time(value: Any, path: str) -> datetime:
    if not isinstance(value, str):
        raise SchemaError(path, "must be an RFC 3339 time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise SchemaError(path, "must be an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise SchemaError(path, "must carry a time zone (e.g. Z)")
    return parsed.astimezone(UTC)


def format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
