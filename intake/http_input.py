"""Reading a request with the typed contract: bearer token, JSON body within limits, headers, query and
path parameters. Every refusal is an ApiError with the documented status."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request

from intake.errors import ApiError
from intake.tokens import InvalidToken, Principal, TokenVerifier
from schemas.fields import Limit, ShowVersion
from schemas.validation import MalformedJson, SchemaError, convert, decode

T = TypeVar("T")
MAX_BODY = 16 * 1024


def validation_error(exc: SchemaError) -> ApiError:
    return ApiError(422, "validation_error", str(exc), details={"path": exc.path, "reason": exc.reason})


def authenticate(request: Request, tokens: TokenVerifier) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    try:
        return tokens.verify(token.strip())
    except InvalidToken as exc:
        raise ApiError(
            401, "unauthorized", f"invalid token: {exc}", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from None


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise ApiError(403, "forbidden", "this route needs the admin role")


def require_scanner(principal: Principal) -> None:
    if principal.role not in ("scanner", "admin"):
        raise ApiError(403, "forbidden", "this route needs the scanner (or admin) role")


@cache
def _decoder(kind: type[T]) -> msgspec.json.Decoder[T]:
    return msgspec.json.Decoder(kind)


async def read_body(request: Request, kind: type[T], *, optional: bool = False) -> T | None:
    """The JSON body decoded strictly as `kind` (None when `optional` and there is no body)."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isascii() or not length.isdigit() or int(length) > MAX_BODY):
        raise ApiError(413, "payload_too_large", f"bodies are limited to {MAX_BODY} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, "payload_too_large", f"bodies are limited to {MAX_BODY} bytes")
        chunks.append(chunk)
    raw = request.state.raw_body = b"".join(chunks)  # as sent: what a signed webhook's signature covers
    if not raw:
        if optional:
            return None
        raise ApiError(400, "malformed_json", "a JSON body is required")
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "Content-Type must be application/json")
    try:
        return decode(raw, _decoder(kind))
    except MalformedJson as exc:
        raise ApiError(400, "malformed_json", f"body is not valid JSON: {exc.reason}") from None
    except SchemaError as exc:
        raise validation_error(exc) from None


def header(request: Request, name: str, kind: Any, *, required: bool, invalid: str = "") -> Any:
    """A header validated with a contract type (None when absent and optional); `invalid`: the message when
    the value breaks the type."""
    value = request.headers.get(name.lower())
    if value is None:
        if not required:
            return None
        raise ApiError(
            422,
            "validation_error",
            f"the {name} header is required",
            details={"path": f"header:{name}", "reason": "is required"},
        )
    try:
        return convert(value, kind, f"header:{name}")
    except SchemaError as exc:
        raise ApiError(
            422, "validation_error", invalid or str(exc), details={"path": exc.path, "reason": exc.reason}
        ) from None


def query(request: Request, name: str, kind: Any) -> Any:
    """A query parameter validated with a contract type (None when absent); integers in ASCII digits,
    booleans as `true` or `false`."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        if kind is bool:
            if raw not in ("true", "false"):
                raise SchemaError(f"query:{name}", "must be true or false")
            return raw == "true"
        if kind in (Limit, ShowVersion):
            # ASCII digits only: int() would also read other scripts' digits and thousands of them.
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
                raise SchemaError(f"query:{name}", "must be a non-negative integer in ASCII digits")
            return convert(int(raw), kind, f"query:{name}")
        return convert(raw, kind, f"query:{name}")
    except SchemaError as exc:
        raise validation_error(exc) from None


def path_id(request: Request, name: str, kind: Any, what: str) -> str:
    """A path identifier; one outside its grammar names nothing that can exist: 404."""
    value = request.path_params[name]
    try:
        return convert(value, kind)
    except SchemaError:
        raise ApiError(404, "not_found", f"no such {what}") from None
