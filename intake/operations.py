"""Every operation of the public API in one table: method, path, handler, who may call it, its parameters,
body and answers. The router (intake/router.py: it decodes and enforces what an operation declares before
its handler runs) and the OpenAPI document (intake/openapi.py) are both built from it, so the document and
the server cannot drift."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from starlette.responses import Response

from intake import routes
from runtime.settings import Settings
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
    ExtendBody,
    Health,
    Readiness,
    SeatMapView,
    ShowAccepted,
    ShowChange,
    ShowList,
    ShowView,
    StreamMark,
)
from schemas.fields import BookingId, Cursor, IdempotencyKey, Limit, ShowId, ShowVersion

# Called as handler(call, **arguments): `principal` when authenticated, `body` when the operation has one,
# and each parameter under its `arg` name, all decoded and checked by the router.
Handler = Callable[..., Awaitable[Response]]


class EventStream:
    """A `text/event-stream` answer (Server-Sent Events); `events` maps each event name to its data."""

    events: ClassVar[dict[str, Any]] = {"change": ShowChange, "reset": StreamMark, "heartbeat": StreamMark}


Auth = Literal["public", "customer", "admin"]


@dataclass(frozen=True)
class Param:
    name: str
    location: Literal["path", "query", "header"]
    kind: Any
    description: str
    required: bool = False
    default: Any = None  # what the handler gets when an optional parameter is absent
    invalid: str = ""  # the 422 message when the value breaks its type (else the type's own complaint)

    @property
    def arg(self) -> str:
        """The handler's keyword argument: `Idempotency-Key` → `idempotency_key`."""
        return self.name.lower().replace("-", "_")


@dataclass(frozen=True)
class Switch:
    """An operation that exists only while a boolean setting is on; off, it is 404 `off` (before anything else)."""

    setting: str
    off: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    ok: dict[int, tuple[Any, str]]  # status -> (body type or None, description): answers not in the error model
    auth: Auth = "public"
    body: Any = None
    body_required: bool = True
    params: tuple[Param, ...] = ()
    rate_limited: bool = False
    uses_stores: bool = True  # a backing store (Kafka, Redis, PostgreSQL) may be down: 503
    location: bool = False  # successful answers carry a Location header
    description: str = ""
    switch: Switch | None = None

    def __post_init__(self) -> None:
        assert not (self.rate_limited and self.auth == "public"), "the write limit is the customer's"
        assert self.body is not None or self.body_required, "an optional body needs a body type"
        assert self.switch is None or self.switch.setting in Settings.__struct_fields__, self.switch

    def errors(self) -> dict[int, str]:
        """Every error status this operation can answer, with why."""
        out: dict[int, str] = {405: "method not allowed on this path (see Allow)"}
        if self.body is not None:
            out |= {
                400: "malformed JSON" + ("" if self.body_required else " (the body is optional)"),
                413: "body over 16 KiB",
                415: "Content-Type is not application/json",
                422: "the body breaks a rule of the contract (details name the path)",
            }
        if any(p.location in ("query", "header") for p in self.params):
            out[422] = "a parameter or the body breaks a rule of the contract (details name the path)"
        if self.auth != "public":
            out[401] = "no bearer token, or a bad one"
        if self.auth == "admin":
            out[403] = "the admin role is required"
        if any(p.location == "path" for p in self.params):
            out[404] = "no such resource (or not yours)"
        if self.rate_limited:
            out[429] = "too many writes by this customer; retry after Retry-After seconds"
        if self.uses_stores:
            out[503] = "a backing service (Kafka, Redis, PostgreSQL) is unavailable; retry after Retry-After"
        if self.switch is not None:
            out[404] = self.switch.off
        return out


SHOW_ID = Param("show_id", "path", ShowId, "a show id (`sh_…`)", required=True)
BOOKING_ID = Param("booking_id", "path", BookingId, "a booking id (`bk_…`)", required=True)
DEFAULT_LIMIT = 50
PAGING = (
    Param("limit", "query", Limit, f"page size, 1..500 (default {DEFAULT_LIMIT})", default=DEFAULT_LIMIT),
    Param("cursor", "query", Cursor, "`next_cursor` of the previous page"),
)
_BAD_KEY = "Idempotency-Key must be 1..128 printable ASCII characters"
IDEMPOTENCY = Param(
    "Idempotency-Key",
    "header",
    IdempotencyKey,
    "1..128 printable ASCII; the same key and body from the same customer is the same booking",
    required=True,
    invalid=_BAD_KEY,
)
_CONTRACT_RULES = "422 also for the rules JSON Schema cannot state, which the schema descriptions name."

OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/healthz", routes.healthz, "the process is alive", {200: (Health, "alive")}, uses_stores=False),
    Operation(
        "GET",
        "/readyz",
        routes.readyz,
        "Kafka and Redis answer",
        {200: (Readiness, "ready"), 503: (Readiness, "not ready: the failing checks say which")},
        uses_stores=False,  # its 503 is the readiness body, not the error model's "unavailable"
        description="503 with the failing checks when not ready.",
    ),
    Operation(
        "GET",
        "/metrics",
        routes.metrics,
        "Prometheus metrics (text exposition)",
        {200: (str, "metrics")},
        uses_stores=False,
    ),
    Operation("GET", "/openapi.json", routes.openapi, "this document", {200: (dict, "OpenAPI 3.1")}, uses_stores=False),
    Operation(
        "POST",
        "/v1/shows",
        routes.create_show,
        "create a show (admin); decided asynchronously",
        {
            202: (
                ShowAccepted,
                "accepted; the show reads at once (seat map version 0) and is created by "
                "the processor (version 1); a refused creation then reads 404 with its reason",
            )
        },
        auth="admin",
        body=CreateShowBody,
        location=True,
        params=(
            Param(
                "Idempotency-Key",
                "header",
                IdempotencyKey,
                "optional: the same key and body from the same admin is the same show (safe retries)",
                invalid=_BAD_KEY,
            ),
        ),
        description=_CONTRACT_RULES + " A reused Idempotency-Key with another body: 422 `idempotency_key_reused`.",
    ),
    Operation(
        "GET",
        "/v1/shows",
        routes.list_shows,
        "list shows by start time (those not started yet, unless include_past=true)",
        {200: (ShowList, "a page")},
        params=(
            *PAGING,
            Param(
                "include_past",
                "query",
                bool,
                "`true`: also the shows that have started (no longer on sale); default `false`",
                default=False,
            ),
        ),
    ),
    Operation(
        "GET", "/v1/shows/{show_id}", routes.get_show, "one show", {200: (ShowView, "the show")}, params=(SHOW_ID,)
    ),
    Operation(
        "GET",
        "/v1/shows/{show_id}/seats",
        routes.get_seat_map,
        "the show's seat map",
        {200: (SeatMapView, "held and booked seats; every other seat is available")},
        params=(SHOW_ID,),
    ),
    Operation(
        "GET",
        "/v1/shows/{show_id}/seats/stream",
        routes.seat_stream,
        "the show's seat changes as Server-Sent Events",
        {
            200: (
                EventStream,
                "`event: change` (`id:` the show version) for every applied change, in "
                "version order; `event: reset` when the changes asked for are no longer kept "
                "(refetch /seats); `event: heartbeat` at once and every 15 s",
            )
        },
        params=(
            SHOW_ID,
            Param(
                "after",
                "query",
                ShowVersion,
                "resume after this version (the Last-Event-ID header, which EventSource sends on reconnect, wins)",
            ),
        ),
    ),
    Operation(
        "POST",
        "/v1/shows/{show_id}/bookings",
        routes.request_booking,
        "request seats (by ids or best available); decided asynchronously",
        {
            202: (Accepted, "accepted and queued: poll the booking"),
            200: (Accepted, "the same request again (same key, same body)"),
        },
        auth="customer",
        body=BookingBody,
        params=(SHOW_ID, IDEMPOTENCY),
        rate_limited=True,
        location=True,
        description=_CONTRACT_RULES + " A reused Idempotency-Key with another body: 422 `idempotency_key_reused`.",
    ),
    Operation(
        "GET",
        "/v1/bookings/{booking_id}",
        routes.get_booking,
        "a booking (its owner or an admin)",
        {200: (BookingView, "the booking")},
        auth="customer",
        params=(BOOKING_ID,),
    ),
    Operation(
        "POST",
        "/v1/bookings/{booking_id}/confirm",
        routes.confirm_booking,
        "confirm a held booking (its owner); decided asynchronously",
        {202: (Accepted, "accepted; a confirm that cannot be applied leaves `refused` on the booking")},
        auth="customer",
        body=ConfirmBody,
        params=(BOOKING_ID,),
        rate_limited=True,
    ),
    Operation(
        "POST",
        "/v1/bookings/{booking_id}/cancel",
        routes.cancel_booking,
        "cancel a booking (its owner); decided asynchronously",
        {202: (Accepted, "accepted; a cancel that cannot be applied leaves `refused` on the booking")},
        auth="customer",
        body=CancelBody,
        body_required=False,
        params=(BOOKING_ID,),
        rate_limited=True,
    ),
    Operation(
        "POST",
        "/v1/bookings/{booking_id}/extend",
        routes.extend_booking,
        "extend a held booking by the show's hold time (its owner); decided asynchronously",
        {
            202: (
                Accepted,
                "accepted; the booking's `expires_at` moves and `extensions` grows, or an extension that cannot be "
                "applied leaves `refused` on the booking (`extension_limit`, `sale_closed`, `booking_…`)",
            )
        },
        auth="customer",
        body=ExtendBody,
        body_required=False,
        params=(BOOKING_ID,),
        rate_limited=True,
        description="At most the show's `max_hold_extensions` times, never past the show's start. An extension "
        "accepted after `expires_at` finds the hold over: the booking is `EXPIRED` (`hold_expired`), as a late "
        "confirm finds it.",
    ),
    Operation(
        "GET",
        "/v1/me/bookings",
        routes.my_bookings,
        "my bookings, newest first",
        {200: (BookingList, "a page")},
        auth="customer",
        params=PAGING,
    ),
    Operation(
        "POST",
        "/v1/dev/token",
        routes.dev_token,
        "development sign-in: a token for a name",
        {200: (DevToken, "a bearer token")},
        body=DevTokenBody,
        uses_stores=False,
        description="Only when the server runs with BOXOFFICE_DEV_SIGNIN=1 (the local stack); "
        "404 otherwise. Production tokens come from the identity provider.",
        switch=Switch("dev_signin", "development sign-in is off"),
    ),
)
