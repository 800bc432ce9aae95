"""Route handlers of the public API. Writes become commands; reads come from the Redis read models
(booking history from PostgreSQL through the read-replica DSN)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

import orjson
import redis.exceptions
from starlette.requests import Request
from starlette.responses import Response

from intake.errors import ApiError
from intake.http_input import authenticate, idempotency_key, read_json, require_admin
from intake.responses import json_response
from intake.tokens import Principal
from schemas import commands as cmd
from schemas.api import parse_booking, parse_confirm, parse_create_show, parse_empty
from schemas.validation import SchemaError, format_time

IDEMPOTENCY_TTL_S = 24 * 3600


def _now() -> str:
    return format_time(datetime.now(UTC))  # type: ignore[return-value]


def _command_id() -> str:
    return secrets.token_hex(12)


def _state(request: Request):
    return request.app.state.intake


def _principal(request: Request) -> Principal:
    return authenticate(request, _state(request).tokens)


def _writer(request: Request) -> Principal:
    """The authenticated customer of a write, within its rate limit."""
    principal = _principal(request)
    limiter = _state(request).limiter
    wait = limiter.acquire(principal.sub)
    if wait > 0:
        raise ApiError(429, "rate_limited", "too many requests; slow down",
                       headers={"Retry-After": limiter.retry_after(wait)})
    return principal


def _validation(exc: SchemaError) -> ApiError:
    return ApiError(422, "validation_error", str(exc), details={"path": exc.path, "reason": exc.reason})


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise ApiError(422, "validation_error", "limit must be an integer 1..500",
                       details={"path": "query:limit", "reason": "1..500"})
    return int(raw)


# ---------------------------------------------------------------- shows
async def create_show(request: Request) -> Response:
    require_admin(_principal(request))
    try:
        body = parse_create_show(await read_json(request))
    except SchemaError as exc:
        raise _validation(exc) from None
    show_id = "sh_" + secrets.token_hex(10)
    await _state(request).bus.send(cmd.CreateShow(
        command_id=_command_id(), show_id=show_id, issued_at=_now(), title=body.title, venue=body.venue,
        starts_at=body.starts_at, hold_seconds=body.hold_seconds, layout=body.layout,
    ))
    return json_response({"show_id": show_id}, status=202, headers={"Location": f"/v1/shows/{show_id}"})


async def list_shows(request: Request) -> Response:
    limit = _limit(request)
    try:
        shows, next_cursor = await _state(request).reads.list_shows(limit, request.query_params.get("cursor"))
    except ValueError:
        raise ApiError(422, "validation_error", "cursor is not one this API issued",
                       details={"path": "query:cursor", "reason": "invalid"}) from None
    body: dict[str, Any] = {"shows": [_public_show(s) for s in shows]}
    if next_cursor:
        body["next_cursor"] = next_cursor
    return json_response(body)


def _public_show(show: dict[str, Any]) -> dict[str, Any]:
    return {k: show[k] for k in ("show_id", "title", "venue", "starts_at", "hold_seconds", "sections",
                                 "seats_total", "seats_available")}


async def get_show(request: Request) -> Response:
    show = await _state(request).reads.show(request.path_params["show_id"])
    if show is None:
        raise ApiError(404, "not_found", "no such show")
    return json_response(_public_show(show))


async def get_seat_map(request: Request) -> Response:
    body = await _state(request).reads.seat_map_json(request.path_params["show_id"])
    if body is None:
        raise ApiError(404, "not_found", "no such show")
    return Response(body, media_type="application/json")


# ---------------------------------------------------------------- bookings
async def request_booking(request: Request) -> Response:
    principal = _writer(request)
    key = idempotency_key(request)
    show_id = request.path_params["show_id"]
    try:
        body = parse_booking(await read_json(request))
    except SchemaError as exc:
        raise _validation(exc) from None
    state = _state(request)
    layout = await state.layout_of(show_id)
    if layout is None:
        raise ApiError(404, "not_found", "no such show")
    if body.seats is not None:
        invalid = [s for s in body.seats if not layout.contains(s)]
        if invalid:
            raise ApiError(422, "validation_error", f"seat ids outside the layout: {invalid}",
                           details={"path": "$.seats", "reason": "outside the layout", "seats": invalid})

    request_id = hashlib.sha256(f"{principal.sub}\n{key}".encode()).hexdigest()
    booking_id = "bk_" + request_id[:26]
    fingerprint = hashlib.sha256(orjson.dumps(body.fingerprint(show_id), option=orjson.OPT_SORT_KEYS)).hexdigest()
    redis = state.reads.redis
    idem_key = state.reads.keys.idempotency(request_id)
    first = await redis.set(idem_key, fingerprint, nx=True, ex=IDEMPOTENCY_TTL_S)
    if not first:
        stored = await redis.get(idem_key)
        if stored is not None and stored.decode() != fingerprint:
            raise ApiError(422, "idempotency_key_reused",
                           "this Idempotency-Key was used for a different request")
        existing = await state.reads.booking(booking_id)
        if existing is not None:  # accepted before: the same answer again, no second command
            return _booking_accepted(booking_id, existing["status"], 200)
    # First time, or a retry of a request whose command may never have been acked: publish (again).
    # The processor decides a booking id once, so a second copy of the command is a no-op.
    now = _now()
    await state.bus.send(cmd.RequestBooking(
        command_id=_command_id(), show_id=show_id, issued_at=now, booking_id=booking_id,
        request_id=request_id, customer_id=principal.sub, email=principal.email, phone=principal.phone,
        seats=body.seats, quantity=body.quantity,
    ))
    await state.reads.record_received({
        "booking_id": booking_id, "show_id": show_id, "customer_id": principal.sub, "status": "RECEIVED",
        "seats": body.seats or [], "reason": None, "expires_at": None, "created_at": now, "updated_at": now,
    })
    return _booking_accepted(booking_id, "RECEIVED", 202 if first else 200)


def _booking_accepted(booking_id: str, status: str, code: int) -> Response:
    return json_response({"booking_id": booking_id, "status": status}, status=code,
                         headers={"Location": f"/v1/bookings/{booking_id}"})


async def _own_booking(request: Request, principal: Principal, allow_admin: bool) -> dict[str, Any]:
    booking = await _state(request).reads.booking(request.path_params["booking_id"])
    if booking is None or not (booking["customer_id"] == principal.sub or (allow_admin and principal.is_admin)):
        raise ApiError(404, "not_found", "no such booking")
    return booking


async def get_booking(request: Request) -> Response:
    principal = _principal(request)
    return json_response(await _own_booking(request, principal, allow_admin=True))


async def confirm_booking(request: Request) -> Response:
    principal = _writer(request)
    try:
        payment_reference = parse_confirm(await read_json(request))
    except SchemaError as exc:
        raise _validation(exc) from None
    booking = await _own_booking(request, principal, allow_admin=False)
    await _state(request).bus.send(cmd.ConfirmBooking(
        command_id=_command_id(), show_id=booking["show_id"], issued_at=_now(),
        booking_id=booking["booking_id"], customer_id=principal.sub, payment_reference=payment_reference,
    ))
    return json_response({"booking_id": booking["booking_id"], "status": booking["status"]}, status=202)


async def cancel_booking(request: Request) -> Response:
    principal = _writer(request)
    try:
        parse_empty(await read_json(request, allow_empty=True))
    except SchemaError as exc:
        raise _validation(exc) from None
    booking = await _own_booking(request, principal, allow_admin=False)
    await _state(request).bus.send(cmd.CancelBooking(
        command_id=_command_id(), show_id=booking["show_id"], issued_at=_now(),
        booking_id=booking["booking_id"], customer_id=principal.sub,
    ))
    return json_response({"booking_id": booking["booking_id"], "status": booking["status"]}, status=202)


async def my_bookings(request: Request) -> Response:
    principal = _principal(request)
    limit = _limit(request)
    try:
        bookings, next_cursor = await _state(request).history.for_customer(
            principal.sub, limit, request.query_params.get("cursor"))
    except ValueError:
        raise ApiError(422, "validation_error", "cursor is not one this API issued",
                       details={"path": "query:cursor", "reason": "invalid"}) from None
    body: dict[str, Any] = {"bookings": bookings}
    if next_cursor:
        body["next_cursor"] = next_cursor
    return json_response(body)


# ---------------------------------------------------------------- operations
async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    state = _state(request)
    checks = {}
    try:
        checks["kafka"] = await state.bus.ready()
    except Exception:
        checks["kafka"] = False
    try:
        checks["redis"] = bool(await state.reads.redis.ping())
    except redis.exceptions.RedisError:
        checks["redis"] = False
    ok = all(checks.values())
    return json_response({"status": "ready" if ok else "not_ready", "checks": checks}, status=200 if ok else 503)




