"""Reading a request: bearer token, JSON body within limits, Idempotency-Key."""
from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from intake.errors import ApiError
from intake.tokens import InvalidToken, Principal, TokenVerifier
from schemas.api import IDEMPOTENCY_KEY

MAX_BODY = 16 * 1024


def authenticate(request: Request, tokens: TokenVerifier) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", "a bearer token is required",
                       headers={"WWW-Authenticate": "Bearer"})
    try:
        return tokens.verify(token.strip())
    except InvalidToken as exc:
        raise ApiError(401, "unauthorized", f"invalid token: {exc}",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise ApiError(403, "forbidden", "this route needs the admin role")


async def read_json(request: Request, *, allow_empty: bool = False) -> Any:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise ApiError(413, "payload_too_large", f"bodies are limited to {MAX_BODY} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, "payload_too_large", f"bodies are limited to {MAX_BODY} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        if allow_empty:
            return None
        raise ApiError(400, "malformed_json", "a JSON body is required")
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "Content-Type must be application/json")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", f"body is not valid JSON: {exc}") from None


def idempotency_key(request: Request) -> str:
    key = request.headers.get("idempotency-key")
    if key is None:
        raise ApiError(422, "validation_error", "the Idempotency-Key header is required",
                       details={"path": "header:Idempotency-Key", "reason": "is required"})
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(422, "validation_error", "Idempotency-Key must be 1..128 printable ASCII characters",
                       details={"path": "header:Idempotency-Key", "reason": "1..128 printable ASCII"})
    return key
