"""Route handlers of the public API. Writes become commands; reads come from the Redis read models
(booking history from PostgreSQL through the read-replica DSN). Which route is which, with its
parameters, bodies and statuses, is the table in intake/operations.py."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import msgspec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from intake.errors import ApiError
from intake.http_input import authenticate, idempotency_key, page, path_id, query, read_body, require_admin
from intake.responses import json_response
from intake.state import IntakeState
from intake.tokens import Principal, mint
from runtime.ops_http import readiness_response
from schemas import commands as cmd
from schemas.api import (
    Accepted,
    BookingBody,
    BookingList,
    BookingView,
    CancelBody,
    ConfirmBody,
    CreateShowBody,
    DevToken,
    DevTokenBody,
    Health,
    ShowAccepted,
    ShowList,
    ShowView,
)
from schemas.events import RECEIVED
from schemas.fields import BookingId, ShowId, ShowVersion
from schemas.layout import Layout

DEV_TOKEN_TTL_S = 12 * 3600


def _state(request: Request) -> IntakeState:
    return request.app.state.intake


def _principal(request: Request) -> Principal:
    return authenticate(request, _state(request).tokens)


async def _writer(request: Request) -> Principal:
    """The authenticated customer of a write, within its rate limit."""
    principal = _principal(request)
    limiter = _state(request).limiter
    wait = await limiter.acquire(principal.sub)
    if wait > 0:
        raise ApiError(
            429, "rate_limited", "too many requests; slow down", headers={"Retry-After": limiter.retry_after(wait)}
        )
    return principal


def _trace(request: Request) -> str | None:
    return request.headers.get("x-request-id")


def _now() -> datetime:
    return datetime.now(UTC)


def _command_id() -> str:
    return secrets.token_hex(12)


# ---------------------------------------------------------------- shows
async def create_show(request: Request) -> Response:
    """With an Idempotency-Key the show id derives from (admin, key): a retry (by the client, or by NGINX
    after an instance died mid-request) creates the same show, once; the key with another body is 422."""
    principal = _principal(request)
    require_admin(principal)
    key = idempotency_key(request, required=False)
    body = await read_body(request, CreateShowBody)
    assert body is not None
    state = _state(request)
    if key is None:
        show_id = "sh_" + secrets.token_hex(10)
    else:
        request_id = hashlib.sha256(f"show\n{principal.sub}\n{key}".encode()).hexdigest()
        show_id = "sh_" + request_id[:20]
        fingerprint = hashlib.sha256(msgspec.json.encode(body)).hexdigest()
        stored = await state.idempotency.claim(request_id, fingerprint)
        if stored is not None and stored != fingerprint:
            raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used for a different show")
    await state.bus.send(
        cmd.CreateShow(
            command_id=_command_id(),
            show_id=show_id,
            issued_at=_now(),
            title=body.title,
            venue=body.venue,
            starts_at=body.starts_at,
            hold_seconds=body.hold_seconds,
            sections=body.sections,
        ),
        _trace(request),
    )
    seats = Layout(body.sections).seats_total
    await state.reads.record_show_accepted(
        ShowView(show_id, body.title, body.venue, body.starts_at, body.hold_seconds, body.sections, seats, seats)
    )
    return json_response(ShowAccepted(show_id), status=202, headers={"Location": f"/v1/shows/{show_id}"})


async def list_shows(request: Request) -> Response:
    limit, cursor = page(request)
    try:
        shows, next_cursor = await _state(request).reads.list_shows(limit, cursor)
    except ValueError:
        raise ApiError(
            422,
            "validation_error",
            "cursor is not one this API issued",
            details={"path": "query:cursor", "reason": "invalid"},
        ) from None
    return json_response(ShowList(shows, next_cursor))


async def get_show(request: Request) -> Response:
    show_id = path_id(request, "show_id", ShowId, "show")
    found = await _state(request).reads.lookup_show(show_id)
    if found.show is None:
        if found.rejected:
            raise ApiError(
                404,
                "not_found",
                f"the creation of this show was rejected ({found.rejected})",
                details={"status": "REJECTED", "reason": found.rejected},
            )
        raise ApiError(404, "not_found", "no such show")
    return json_response(found.show)


async def get_seat_map(request: Request) -> Response:
    show_id = path_id(request, "show_id", ShowId, "show")
    body = await _state(request).reads.seat_map_json(show_id)
    if body is None:
        raise ApiError(404, "not_found", "no such show")
    return Response(body, media_type="application/json")


async def seat_stream(request: Request) -> Response:
    show_id = path_id(request, "show_id", ShowId, "show")
    after = query(request, "after", ShowVersion)
    last_event = request.headers.get("last-event-id", "")
    if last_event.isascii() and last_event.isdigit() and len(last_event) <= 18:
        after = int(last_event)  # what an EventSource sends when it reconnects: it wins over ?after=
    state = _state(request)
    if await state.reads.show(show_id) is None:
        raise ApiError(404, "not_found", "no such show")
    return StreamingResponse(
        state.streams.events(show_id, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# ---------------------------------------------------------------- bookings
async def request_booking(request: Request) -> Response:
    principal = await _writer(request)
    key = idempotency_key(request)
    body = await read_body(request, BookingBody)
    assert body is not None
    show_id = path_id(request, "show_id", ShowId, "show")
    state = _state(request)
    layout = await state.layout_of(show_id)
    if layout is None:
        raise ApiError(404, "not_found", "no such show")
    seats = body.seat_list
    if seats is not None:
        invalid = [s for s in seats if not layout.contains(s)]
        if invalid:
            raise ApiError(
                422,
                "validation_error",
                f"seat ids outside the layout: {invalid}",
                details={"path": "$.seats", "reason": "outside the layout", "seats": invalid},
            )

    # The key is the customer's: reused for anything else while its record lives, it is 422. The booking id
    # also names the show, so it is unique on the show's shard whatever happens to that record (a booking id
    # only ever exists on one shard, where the show is).
    claim_id = hashlib.sha256(f"{principal.sub}\n{key}".encode()).hexdigest()
    request_id = hashlib.sha256(f"{principal.sub}\n{show_id}\n{key}".encode()).hexdigest()
    booking_id = "bk_" + request_id[:26]
    fingerprint = hashlib.sha256(msgspec.json.encode([show_id, seats, body.quantity_or_none])).hexdigest()
    stored = await state.idempotency.claim(claim_id, fingerprint)
    if stored is not None:
        if stored != fingerprint:
            raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used for a different request")
        existing = await state.reads.booking(booking_id)
        if existing is not None:  # accepted before: the same answer again, no second command
            return _booking_accepted(booking_id, existing.status, 200)
    # First time, or a retry of a request whose command may never have been acked: publish (again).
    # The processor decides a booking id once, so a second copy of the command is a no-op.
    now = _now()
    placed = await state.bus.send(
        cmd.RequestBooking(
            command_id=_command_id(),
            show_id=show_id,
            issued_at=now,
            booking_id=booking_id,
            request_id=request_id,
            customer_id=principal.sub,
            email=principal.email,
            phone=principal.phone,
            seats=seats,
            quantity=body.quantity_or_none,
        ),
        _trace(request),
    )
    await state.reads.record_received(
        BookingView(
            booking_id=booking_id,
            show_id=show_id,
            customer_id=principal.sub,
            status=RECEIVED,
            seats=seats or [],
            reason=None,
            expires_at=None,
            created_at=now,
            updated_at=now,
        ),
        placed.partition,
        placed.offset,
    )
    return _booking_accepted(booking_id, RECEIVED, 202 if stored is None else 200)


def _booking_accepted(booking_id: str, status: str, code: int) -> Response:
    return json_response(
        Accepted(booking_id, status),
        status=code,  # type: ignore[arg-type]
        headers={"Location": f"/v1/bookings/{booking_id}"},
    )


async def _own_booking(request: Request, principal: Principal, allow_admin: bool) -> BookingView:
    booking_id = path_id(request, "booking_id", BookingId, "booking")
    booking = await _state(request).reads.booking(booking_id)
    if booking is None or not (booking.customer_id == principal.sub or (allow_admin and principal.is_admin)):
        raise ApiError(404, "not_found", "no such booking")
    return booking


async def get_booking(request: Request) -> Response:
    principal = _principal(request)
    return json_response(await _own_booking(request, principal, allow_admin=True))


async def confirm_booking(request: Request) -> Response:
    principal = await _writer(request)
    body = await read_body(request, ConfirmBody)
    assert body is not None
    booking = await _own_booking(request, principal, allow_admin=False)
    await _state(request).bus.send(
        cmd.ConfirmBooking(
            command_id=_command_id(),
            show_id=booking.show_id,
            issued_at=_now(),
            booking_id=booking.booking_id,
            customer_id=principal.sub,
            payment_reference=body.payment_reference,
        ),
        _trace(request),
    )
    return json_response(Accepted(booking.booking_id, booking.status), status=202)


async def cancel_booking(request: Request) -> Response:
    principal = await _writer(request)
    await read_body(request, CancelBody, optional=True)
    booking = await _own_booking(request, principal, allow_admin=False)
    await _state(request).bus.send(
        cmd.CancelBooking(
            command_id=_command_id(),
            show_id=booking.show_id,
            issued_at=_now(),
            booking_id=booking.booking_id,
            customer_id=principal.sub,
        ),
        _trace(request),
    )
    return json_response(Accepted(booking.booking_id, booking.status), status=202)


async def my_bookings(request: Request) -> Response:
    principal = _principal(request)
    limit, cursor = page(request)
    try:
        bookings, next_cursor = await _state(request).history.for_customer(principal.sub, limit, cursor)
    except ValueError:
        raise ApiError(
            422,
            "validation_error",
            "cursor is not one this API issued",
            details={"path": "query:cursor", "reason": "invalid"},
        ) from None
    return json_response(BookingList(bookings, next_cursor))


# ---------------------------------------------------------------- development sign-in
async def dev_token(request: Request) -> Response:
    """Mints a token for a name when the stack runs with BOXOFFICE_DEV_SIGNIN=1 (never in production: there
    tokens come from the identity provider, with the same claims)."""
    state = _state(request)
    if not state.settings.dev_signin:
        raise ApiError(404, "not_found", "development sign-in is off")
    body = await read_body(request, DevTokenBody)
    assert body is not None
    email = None if body.email is msgspec.UNSET else body.email
    token = mint(state.settings.require_auth_secret(), body.sub, body.role, DEV_TOKEN_TTL_S, email)  # type: ignore[arg-type]
    expires_at = _now() + timedelta(seconds=DEV_TOKEN_TTL_S)
    return json_response(DevToken(token=token, sub=body.sub, role=body.role, expires_at=expires_at))


# ---------------------------------------------------------------- operations
async def healthz(request: Request) -> Response:
    return json_response(Health(status="ok"))


async def readyz(request: Request) -> Response:
    return readiness_response(await _state(request).readiness())


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def openapi(request: Request) -> Response:
    from intake.openapi import openapi_document  # built from the operations table, which names this module

    return Response(openapi_document(), media_type="application/json")
