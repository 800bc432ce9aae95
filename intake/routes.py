"""Route handlers of the public API. Writes become commands; reads come from the Redis read models
(booking history from PostgreSQL through the read-replica DSN). Which route is which, with its
parameters, bodies and statuses, is the table in intake/operations.py."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from datetime import UTC, datetime, timedelta

import msgspec
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from intake.conditional import EntityTags, booking_tag, digest_tag, not_modified, version_tag
from intake.errors import ApiError, unavailable
from intake.responses import encode_json, json_response
from intake.router import Call
from intake.seat_stream import SlottedStream
from intake.tokens import Principal, mint
from payments.provider import PaymentProvider, ProviderError, WebhookRefused
from payments.stripe import MIN_SESSION_S
from runtime.ops_http import readiness_response
from schemas import commands as cmd
from schemas.api import (
    Accepted,
    AdminShowList,
    BookingBody,
    BookingList,
    BookingView,
    CancelBody,
    CheckinBody,
    CheckinView,
    CheckoutView,
    ConfirmBody,
    CreateShowBody,
    DevToken,
    DevTokenBody,
    ExtendBody,
    Health,
    ProviderEventBody,
    ShowAccepted,
    ShowList,
    ShowView,
    TicketKey,
    TicketList,
    TicketView,
    UpdateShowBody,
    WaitlistAccepted,
    WaitlistBody,
    WaitlistView,
    WebhookReceived,
)
from schemas.events import CONFIRMED, INVALID, PENDING, RECEIVED, BookingStatus, WaitlistStatus
from schemas.layout import Layout
from schemas.tickets import InvalidTicket, ticket_id
from schemas.validation import SchemaError

log = structlog.get_logger()

DEV_TOKEN_TTL_S = 12 * 3600


def _now() -> datetime:
    return datetime.now(UTC)


def _command_id() -> str:
    return secrets.token_hex(12)


def _foreign_cursor() -> ApiError:
    return ApiError(
        422,
        "validation_error",
        "cursor is not one this API issued",
        details={"path": "query:cursor", "reason": "invalid"},
    )


# ---------------------------------------------------------------- shows
async def create_show(
    call: Call, *, principal: Principal, idempotency_key: str | None, body: CreateShowBody
) -> Response:
    """With an Idempotency-Key the show id derives from (admin, key): a retry (by the client, or by NGINX
    after an instance died mid-request) creates the same show, once; the key with another body is 422.
    A show that has started is no longer on sale: one cannot be created with its start in the past."""
    state = call.state
    if body.starts_at <= _now():
        raise ApiError(
            422,
            "validation_error",
            "$.starts_at: must be in the future",
            details={"path": "$.starts_at", "reason": "must be in the future"},
        )
    if idempotency_key is None:
        show_id = "sh_" + secrets.token_hex(10)
    else:
        request_id = hashlib.sha256(f"show\n{principal.sub}\n{idempotency_key}".encode()).hexdigest()
        show_id = "sh_" + request_id[:20]
        fingerprint = hashlib.sha256(msgspec.json.encode(body)).hexdigest()
        stored = await state.idempotency.claim(request_id, fingerprint)
        if stored is not None and stored != fingerprint:
            raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used for a different show")
    accepted_at = _now()
    await state.bus.send(
        cmd.CreateShow(
            command_id=_command_id(),
            show_id=show_id,
            issued_at=accepted_at,
            title=body.title,
            venue=body.venue,
            starts_at=body.starts_at,
            hold_seconds=body.hold_seconds,
            sections=body.sections,
            max_seats_per_customer=body.max_seats_per_customer,
            max_hold_extensions=body.max_hold_extensions,
            currency=body.currency,
            sale_opens_at=body.sale_opens_at,
            sale_closes_at=body.sale_closes_at,
            fair_start_window_s=body.fair_start_window_s,
            # The draw's secret, one per show and never shown: nobody can pick a key that wins it.
            fair_start_seed=secrets.token_hex(16) if body.fair_start_window_s else None,
            waitlist_offer_seconds=body.waitlist_offer_seconds,
            cancellable_until_hours=body.cancellable_until_hours,
            refund_percent=body.refund_percent,
        ),
        call.trace,
    )
    seats = Layout(body.sections).seats_total
    await state.reads.record_show_accepted(
        ShowView(
            show_id,
            body.title,
            body.venue,
            body.starts_at,
            body.hold_seconds,
            body.sections,
            seats,
            seats,
            body.max_seats_per_customer,
            body.max_hold_extensions,
            body.currency,
            sale_opens_at=body.sale_opens_at or accepted_at,
            sale_closes_at=body.sale_closes_at or body.starts_at,
            fair_start_window_s=body.fair_start_window_s,
            waitlist_offer_seconds=body.waitlist_offer_seconds,
            cancellable_until_hours=body.cancellable_until_hours,
            refund_percent=body.refund_percent,
        )
    )
    return json_response(ShowAccepted(show_id), status=202, headers={"Location": f"/v1/shows/{show_id}"})


async def _show_command(call: Call, show_id: str, kind: type[cmd.CloseSales] | type[cmd.CancelShow]) -> Response:
    """An admin's command about a whole show (close its sale, cancel it): 202 once sent."""
    if await call.state.reads.show(show_id) is None:
        raise ApiError(404, "not_found", "no such show")
    await call.state.bus.send(kind(command_id=_command_id(), show_id=show_id, issued_at=_now()), call.trace)
    return json_response(ShowAccepted(show_id), status=202, headers={"Location": f"/v1/shows/{show_id}"})


async def update_show(call: Call, *, principal: Principal, show_id: str, body: UpdateShowBody) -> Response:
    """Decided in the show's queue: a change that cannot be made leaves `update_refused` on the show."""
    show = await call.state.reads.show(show_id)
    if show is None:
        raise ApiError(404, "not_found", "no such show")
    starts_at = body.value("starts_at")
    if starts_at is not None and starts_at <= _now():
        raise ApiError(
            422,
            "validation_error",
            "$.starts_at: must be in the future",
            details={"path": "$.starts_at", "reason": "must be in the future"},
        )
    await call.state.bus.send(
        cmd.UpdateShow(
            command_id=_command_id(),
            show_id=show_id,
            issued_at=_now(),
            title=body.value("title"),
            venue=body.value("venue"),
            starts_at=starts_at,
        ),
        call.trace,
    )
    return json_response(ShowAccepted(show_id), status=202, headers={"Location": f"/v1/shows/{show_id}"})


async def close_sales(call: Call, *, principal: Principal, show_id: str) -> Response:
    return await _show_command(call, show_id, cmd.CloseSales)


async def cancel_show(call: Call, *, principal: Principal, show_id: str) -> Response:
    return await _show_command(call, show_id, cmd.CancelShow)


def _tagged(body: bytes, tag: str, if_none_match: EntityTags | None) -> Response:
    """200 with the body and its tag, or 304 when the client already holds that tag."""
    if if_none_match is not None and if_none_match.matches(tag):
        return not_modified(tag)
    return Response(body, media_type="application/json", headers={"ETag": tag})


async def list_shows(
    call: Call,
    *,
    limit: int,
    cursor: str | None,
    include_past: bool = False,
    if_none_match: EntityTags | None = None,
) -> Response:
    try:
        shows, next_cursor = await call.state.reads.list_shows(limit, cursor, None if include_past else _now())
    except ValueError:
        raise _foreign_cursor() from None
    body = encode_json(ShowList(shows, next_cursor))
    return _tagged(body, digest_tag(body), if_none_match)


async def admin_shows(
    call: Call, *, principal: Principal, limit: int, cursor: str | None, include_past: bool = False
) -> Response:
    """The shows by start, each with its seats per section (available, held, sold) and revenue."""
    try:
        shows, next_cursor = await call.state.reads.list_shows(limit, cursor, None if include_past else _now())
    except ValueError:
        raise _foreign_cursor() from None
    return json_response(AdminShowList(await call.state.reads.sales(shows), next_cursor))


async def get_show(call: Call, *, show_id: str, if_none_match: EntityTags | None = None) -> Response:
    found = await call.state.reads.lookup_show(show_id)
    if found.show is None:
        if found.rejected:
            raise ApiError(
                404,
                "not_found",
                f"the creation of this show was rejected ({found.rejected})",
                details={"status": "REJECTED", "reason": found.rejected},
            )
        raise ApiError(404, "not_found", "no such show")
    body = encode_json(found.show)
    return _tagged(body, version_tag(found.version) if found.version else digest_tag(body), if_none_match)


async def get_seat_map(call: Call, *, show_id: str, if_none_match: EntityTags | None = None) -> Response:
    found = await call.state.reads.seat_map_versioned(show_id)
    if found is None:
        raise ApiError(404, "not_found", "no such show")
    version, body = found
    return _tagged(body, version_tag(version), if_none_match)


async def seat_stream(call: Call, *, show_id: str, after: int | None) -> Response:
    last_event = call.request.headers.get("last-event-id", "")
    if last_event.isascii() and last_event.isdigit() and len(last_event) <= 18:
        after = int(last_event)  # what an EventSource sends when it reconnects: it wins over ?after=
    state = call.state
    if await state.reads.show(show_id) is None:
        raise ApiError(404, "not_found", "no such show")
    if not state.stream_slots.take(state.settings.seat_streams_max):
        # NGINX tries another instance with this 503 (its stream location retries http_503).
        raise unavailable("this instance serves as many seat-map streams as it may; retry shortly", retry_after=5)
    return SlottedStream(
        state.stream_slots,
        state.streams.events(show_id, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# ---------------------------------------------------------------- bookings
async def request_booking(
    call: Call, *, principal: Principal, show_id: str, idempotency_key: str, body: BookingBody
) -> Response:
    state = call.state
    layout = await state.layout_of(show_id)
    if layout is None:
        raise ApiError(404, "not_found", "no such show")
    seats, section, price = body.seat_list, body.section_or_none, body.price_or_none
    if seats is not None:
        invalid = [s for s in seats if not layout.contains(s)]
        if invalid:
            raise ApiError(
                422,
                "validation_error",
                f"seat ids outside the layout: {invalid}",
                details={"path": "$.seats", "reason": "outside the layout", "seats": invalid},
            )
    else:
        _check_sections(layout, section, price)

    # The key is the customer's: reused for anything else while its record lives, it is 422. The booking id
    # also names the show, so it is unique on the show's shard whatever happens to that record (a booking id
    # only ever exists on one shard, where the show is).
    claim_id = hashlib.sha256(f"{principal.sub}\n{idempotency_key}".encode()).hexdigest()
    request_id = hashlib.sha256(f"{principal.sub}\n{show_id}\n{idempotency_key}".encode()).hexdigest()
    booking_id = "bk_" + request_id[:26]
    choice: list = [show_id, seats, body.quantity_or_none]
    if section is not None or price is not None:  # only then: a body of before keeps its fingerprint
        choice += [section, price]
    fingerprint = hashlib.sha256(msgspec.json.encode(choice)).hexdigest()
    stored = await call.admit(claim_id, fingerprint)  # the write limit too: 429 over it
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
            section=section,
            price_cents=price,
        ),
        call.trace,
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


def _check_sections(layout: Layout, section: str | None, price: int | None) -> None:
    """A section or price the layout does not have is 422, naming which."""
    if (section is not None or price is not None) and not layout.sections_for(section, price):
        path = "$.section" if section is not None and layout.section(section) is None else "$.price_cents"
        raise ApiError(
            422,
            "validation_error",
            f"{path}: no section of the layout matches",
            details={"path": path, "reason": "no section of the layout matches"},
        )


def _booking_accepted(booking_id: str, status: BookingStatus, code: int) -> Response:
    return json_response(
        Accepted(booking_id, status),
        status=code,
        headers={"Location": f"/v1/bookings/{booking_id}"},
    )


async def _own_booking(call: Call, principal: Principal, booking_id: str, allow_admin: bool) -> BookingView:
    """Someone else's booking is 404, as a booking that does not exist (its id tells nothing)."""
    booking = await call.state.reads.booking(booking_id)
    if booking is None or not (booking.customer_id == principal.sub or (allow_admin and principal.is_admin)):
        raise ApiError(404, "not_found", "no such booking")
    return booking


async def get_booking(
    call: Call,
    *,
    principal: Principal,
    booking_id: str,
    if_none_match: EntityTags | None = None,
    prefer: int | None = None,
) -> Response:
    """The booking; with If-None-Match naming its tag, 304 — or, with `Prefer: wait=N`, the booking as soon
    as its tag moves, else 304 after N seconds (intake/booking_waits.py)."""
    booking = await _own_booking(call, principal, booking_id, allow_admin=True)
    tag = booking_tag(booking)
    if if_none_match is None or not if_none_match.matches(tag):
        return json_response(booking, headers={"ETag": tag})
    if prefer is None:
        return not_modified(tag)
    waited = await call.state.waits.wait(booking, if_none_match, prefer, gone=call.request.is_disconnected)
    if not waited.applied:
        return not_modified(tag)  # nothing was waited (no Preference-Applied): ask again later
    applied = {"Preference-Applied": f"wait={prefer}"}
    now = waited.booking
    if now is None:  # the wait ran out: what it is now (a move in the line alone is not hurried)
        now = await call.state.reads.booking(booking_id) or booking
    tag = booking_tag(now)
    if if_none_match.matches(tag):
        return not_modified(tag, applied)
    return json_response(now, headers={"ETag": tag, **applied})


async def confirm_booking(call: Call, *, principal: Principal, booking_id: str, body: ConfirmBody) -> Response:
    booking = await _own_booking(call, principal, booking_id, allow_admin=False)
    if call.state.settings.payments_required and booking.total:
        raise ApiError(
            409,
            "payment_required",
            "this hold has a price: pay for it (POST /v1/bookings/{id}/checkout); confirm is for free seats",
        )
    await call.state.bus.send(
        cmd.ConfirmBooking(
            command_id=_command_id(),
            show_id=booking.show_id,
            issued_at=_now(),
            booking_id=booking.booking_id,
            customer_id=principal.sub,
            payment_reference=body.payment_reference,
        ),
        call.trace,
    )
    return json_response(Accepted(booking.booking_id, booking.status), status=202)


async def _owner_command(
    call: Call, principal: Principal, booking_id: str, kind: type[cmd.CancelBooking] | type[cmd.ExtendBooking]
) -> Response:
    """A command about the caller's own booking that carries nothing else (cancel, extend): 202 once sent."""
    booking = await _own_booking(call, principal, booking_id, allow_admin=False)
    await call.state.bus.send(
        kind(
            command_id=_command_id(),
            show_id=booking.show_id,
            issued_at=_now(),
            booking_id=booking.booking_id,
            customer_id=principal.sub,
        ),
        call.trace,
    )
    return json_response(Accepted(booking.booking_id, booking.status), status=202)


async def cancel_booking(call: Call, *, principal: Principal, booking_id: str, body: CancelBody | None) -> Response:
    return await _owner_command(call, principal, booking_id, cmd.CancelBooking)


async def extend_booking(call: Call, *, principal: Principal, booking_id: str, body: ExtendBody | None) -> Response:
    return await _owner_command(call, principal, booking_id, cmd.ExtendBooking)


async def my_bookings(call: Call, *, principal: Principal, limit: int, cursor: str | None) -> Response:
    try:
        bookings, next_cursor = await call.state.history.for_customer(principal.sub, limit, cursor)
    except ValueError:
        raise _foreign_cursor() from None
    return json_response(BookingList(bookings, next_cursor))


# ---------------------------------------------------------------- development sign-in
async def dev_token(call: Call, *, body: DevTokenBody) -> Response:
    """Mints a customer token for a name when the stack runs with BOXOFFICE_DEV_SIGNIN=1 (never in
    production: there tokens come from the identity provider, with the same claims). Its issuer is
    `boxoffice-dev`, which the intake trusts only while dev sign-in is on, and never with the admin role."""
    signer = call.state.dev_tokens
    assert signer is not None, "dev sign-in is on, so the intake holds its signer"
    email = None if body.email is msgspec.UNSET else body.email
    token = mint(signer, body.sub, body.role, DEV_TOKEN_TTL_S, email)
    expires_at = _now() + timedelta(seconds=DEV_TOKEN_TTL_S)
    return json_response(DevToken(token=token, sub=body.sub, role=body.role, expires_at=expires_at))


# ---------------------------------------------------------------- operations
async def healthz(call: Call) -> Response:
    return json_response(Health(status="ok"))


async def readyz(call: Call) -> Response:
    return readiness_response(await call.state.readiness())


async def metrics(call: Call) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def openapi(call: Call) -> Response:
    from intake.openapi import openapi_document  # built from the operations table, which names this module

    return Response(openapi_document(), media_type="application/json")


# ---------------------------------------------------------------- the waiting list
def _waitlist_accepted(show_id: str, status: WaitlistStatus) -> Response:
    return json_response(
        WaitlistAccepted(show_id, status), status=202, headers={"Location": f"/v1/shows/{show_id}/waitlist/me"}
    )


async def join_waitlist(call: Call, *, principal: Principal, show_id: str, body: WaitlistBody) -> Response:
    """Joining again while waiting changes nothing (the processor keeps the first place)."""
    state = call.state
    layout = await state.layout_of(show_id)
    if layout is None:
        raise ApiError(404, "not_found", "no such show")
    _check_sections(layout, body.section_or_none, None)
    mark = await state.reads.waitlist_mark(show_id, principal.sub)  # what the place is before the command
    now = _now()
    await state.bus.send(
        cmd.JoinWaitlist(
            command_id=_command_id(),
            show_id=show_id,
            issued_at=now,
            customer_id=principal.sub,
            quantity=body.quantity,
            section=body.section_or_none,
            email=principal.email,
            phone=principal.phone,
        ),
        call.trace,
    )
    await state.reads.record_waitlist_received(
        WaitlistView(show_id, principal.sub, RECEIVED, body.quantity, now, section=body.section_or_none), mark
    )
    return _waitlist_accepted(show_id, RECEIVED)


async def leave_waitlist(call: Call, *, principal: Principal, show_id: str) -> Response:
    state = call.state
    if await state.layout_of(show_id) is None:
        raise ApiError(404, "not_found", "no such show")
    await state.bus.send(
        cmd.LeaveWaitlist(command_id=_command_id(), show_id=show_id, issued_at=_now(), customer_id=principal.sub),
        call.trace,
    )
    entry = await state.reads.waitlist_entry(show_id, principal.sub)
    return _waitlist_accepted(show_id, entry.status if entry is not None else RECEIVED)


async def my_waitlist(call: Call, *, principal: Principal, show_id: str) -> Response:
    entry = await call.state.reads.waitlist_entry(show_id, principal.sub)
    if entry is None:
        raise ApiError(404, "not_found", "not on this show's waiting list")
    return json_response(entry)


# ---------------------------------------------------------------- tickets and the door
def _ticket_keys(call: Call):
    keys = call.state.tickets
    if keys is None:
        raise unavailable("this intake holds no ticket key (BOXOFFICE_TICKET_SIGNING_KEY)", retry_after=60)
    return keys


async def get_tickets(call: Call, *, principal: Principal, booking_id: str) -> Response:
    """One ticket per seat while the booking is CONFIRMED (its owner or an admin); none in any other state (not
    yet paid for, or cancelled: its codes are revoked at the door)."""
    booking = await _own_booking(call, principal, booking_id, allow_admin=True)
    tickets = []
    if booking.status == CONFIRMED:
        keys = _ticket_keys(call)
        tickets = [
            TicketView(ticket_id(booking.booking_id, s), s, keys.sign(booking.show_id, booking.booking_id, s))
            for s in booking.seats
        ]
    return json_response(TicketList(booking.booking_id, booking.show_id, booking.status, tickets))


async def ticket_key(call: Call, *, show_id: str) -> Response:
    if await call.state.reads.show(show_id) is None:
        raise ApiError(404, "not_found", "no such show")
    return json_response(TicketKey(show_id, "Ed25519", _ticket_keys(call).public_key(show_id)))


def _invalid(reason: str) -> Response:
    return json_response(CheckinView(status="DECIDED", result=INVALID, reason=reason))  # nothing kept: no id


async def check_in(call: Call, *, principal: Principal, body: CheckinBody) -> Response:
    """A code that does not verify is `invalid` at once; a signed one is decided in its show's queue (once per
    ticket, whatever the number of gates), and its answer waited for up to `checkin_wait_s`."""
    state = call.state
    try:
        ticket = _ticket_keys(call).verify(body.code)
    except InvalidTicket as exc:
        return _invalid(f"not a valid ticket code: {exc}")
    if await state.reads.show(ticket.show_id) is None:
        return _invalid("no such show")
    checkin_id = "ci_" + _command_id()
    await state.bus.send(
        cmd.CheckIn(
            command_id=checkin_id,
            show_id=ticket.show_id,
            issued_at=_now(),
            ticket_id=ticket.ticket_id,
            booking_id=ticket.booking_id,
            seat=ticket.seat,
            gate=body.gate,
            scanner_id=principal.sub,
        ),
        call.trace,
    )
    view = await _await_checkin(call, checkin_id, state.settings.checkin_wait_s)
    if view is None:  # queued, not decided in time (the pipeline is slow): GET /v1/checkins/{id} follows it
        view = CheckinView("RECEIVED", checkin_id, ticket_id=ticket.ticket_id, show_id=ticket.show_id, gate=body.gate)
    return json_response(view)


async def _await_checkin(call: Call, checkin_id: str, seconds: float) -> CheckinView | None:
    """The scan's answer once the projections applied it: read again with a growing pause (a scan is decided
    in tens of milliseconds when the pipeline flows), None when it is not there within `seconds`."""
    deadline = time.monotonic() + seconds
    pause = 0.01
    while True:
        view = await call.state.reads.checkin(checkin_id)
        if view is not None or time.monotonic() >= deadline:
            return view
        await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.2)


async def get_checkin(call: Call, *, principal: Principal, checkin_id: str) -> Response:
    view = await call.state.reads.checkin(checkin_id)
    if view is None:
        raise ApiError(404, "not_found", "no such check-in decided (yet)")
    return json_response(view)


# ---------------------------------------------------------------- payments
def _payments(call: Call) -> PaymentProvider:
    provider = call.state.payments
    if provider is None:
        raise unavailable("this intake has no payment provider", retry_after=60)
    return provider


async def checkout(call: Call, *, principal: Principal, booking_id: str) -> Response:
    """A hosted checkout at the provider for the hold's total (its owner). The same hold, asked again, gets the
    same checkout (the provider's idempotency key); an extension of the hold makes a new one, which replaces
    the old (voided). The booking is confirmed by the provider's signed webhook, not by this call."""
    booking = await _own_booking(call, principal, booking_id, allow_admin=False)
    if booking.status != PENDING or booking.expires_at is None or booking.expires_at <= _now():
        raise ApiError(
            409,
            "not_pending",
            f"only a PENDING hold can be paid for (this booking is {booking.status})",
            details={"status": booking.status},
        )
    if not booking.total or not booking.currency:
        raise ApiError(409, "nothing_to_pay", "these seats are free: confirm the booking instead")
    if booking.payment is not None and booking.payment.status not in ("open", "void_requested"):
        raise ApiError(
            409,
            "payment_in_progress",
            f"this hold's payment is {booking.payment.status}: no new checkout",
            details={"payment_status": booking.payment.status},
        )
    provider = _payments(call)
    show = await call.state.reads.show(booking.show_id)
    title = show.title if show is not None else booking.show_id
    base = call.state.settings.public_url.rstrip("/")
    try:
        made = await provider.create_checkout(
            booking_id=booking.booking_id,
            show_id=booking.show_id,
            amount=booking.total,
            currency=booking.currency,
            description=f"{title}: {len(booking.seats)} seat(s) ({', '.join(booking.seats)})",
            success_url=f"{base}/me/bookings/{booking.booking_id}?paid=1",
            cancel_url=f"{base}/me/bookings/{booking.booking_id}",
            # From the hold alone (its start and end), never the clock: a retry sends the same parameters.
            expires_at=max(booking.expires_at, booking.created_at + timedelta(seconds=MIN_SESSION_S)),
            idempotency_key=f"checkout:{booking.booking_id}:{booking.extensions}",
        )
    except ProviderError as exc:  # what went wrong is the operators' (the log), not the client's
        log.warning("payment provider unavailable", booking_id=booking.booking_id, error=str(exc))
        raise unavailable("the payment provider did not answer; retry shortly", retry_after=5) from None
    await call.state.bus.send(
        cmd.StartCheckout(
            command_id=_command_id(),
            show_id=booking.show_id,
            issued_at=_now(),
            booking_id=booking.booking_id,
            customer_id=principal.sub,
            provider=provider.name,
            checkout_id=made.checkout_id,
            amount=booking.total,
            currency=booking.currency,  # type: ignore[arg-type]  # the show's, from the allow-list
        ),
        call.trace,
    )
    return json_response(
        CheckoutView(
            booking.booking_id,
            made.checkout_id,
            made.url,
            provider.name,
            booking.total,
            booking.currency,
            booking.expires_at,
        )
    )


async def payment_webhook(call: Call, *, provider: str, body: ProviderEventBody) -> Response:
    """The provider's notice, verified (signature, timestamp) before anything else, then a command in the
    booking's show's queue, answered 200 once Kafka has it (else 503: the provider retries). A copy of a notice
    (the provider's retry, a replay within the signature's tolerance) is queued again and decided as a no-op:
    the decision, not this door, is what is idempotent. An event type boxoffice does not act on is answered 200
    too, so the provider stops sending it."""
    adapter = call.state.payments
    if adapter is None or adapter.name != provider:
        raise ApiError(404, "not_found", f"no payment provider {provider!r} here")
    try:  # the body as sent (the router kept it): what the signature covers
        notice = adapter.read_webhook(call.request.state.raw_body, call.request.headers, time.time())
    except WebhookRefused as refused:
        raise ApiError(400, refused.code, str(refused)) from None
    if notice is None or notice.kind == "expired":  # an expired checkout: the hold's own expiry decides
        return json_response(WebhookReceived(received=True, handled=False))
    layout = await call.state.layout_of(notice.show_id)
    if layout is None:
        raise ApiError(400, "invalid_webhook", "the event names no show of ours")
    if notice.payment_id is None:
        raise ApiError(400, "invalid_webhook", f"a {notice.kind} notice without its payment")
    common = {"command_id": _command_id(), "show_id": notice.show_id, "issued_at": _now()}
    command: cmd.Command
    if notice.kind == "paid":
        command = cmd.SettlePayment(
            **common,
            booking_id=notice.booking_id,
            provider=provider,
            checkout_id=notice.checkout_id,
            payment_id=notice.payment_id,
            amount=notice.amount,
            currency=notice.currency,  # type: ignore[arg-type]
            provider_event_id=notice.event_id,
        )
    else:
        command = cmd.RecordRefund(
            **common,
            booking_id=notice.booking_id,
            provider=provider,
            payment_id=notice.payment_id,
            amount=notice.amount,
            provider_event_id=notice.event_id,
        )
    try:
        cmd.checked_encoding(command)
    except SchemaError as exc:
        raise ApiError(400, "invalid_webhook", f"the event does not make a valid command: {exc}") from None
    await call.state.bus.send(command, call.trace)  # a copy (the provider retries) is decided as a no-op
    return json_response(WebhookReceived(received=True, handled=True))
