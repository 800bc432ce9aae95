"""Every operation of the public API in one table: method, path, handler, who may call it, its parameters,
body and answers. The router (intake/router.py: it decodes and enforces what an operation declares before
its handler runs) and the OpenAPI document (intake/openapi.py) are both built from it, so the document and
the server cannot drift."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from starlette.responses import Response

from intake import routes
from intake.conditional import MAX_WAIT_S, entity_tags, prefer_wait
from runtime.settings import Settings
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
    Readiness,
    SeatMapView,
    ShowAccepted,
    ShowChange,
    ShowList,
    ShowView,
    StreamMark,
    TicketKey,
    TicketList,
    UpdateShowBody,
    WaitlistAccepted,
    WaitlistBody,
    WaitlistView,
    WebhookReceived,
)
from schemas.fields import BookingId, CommandId, Cursor, IdempotencyKey, Limit, ProviderName, ShowId, ShowVersion

# Called as handler(call, **arguments): `principal` when authenticated, `body` when the operation has one,
# and each parameter under its `arg` name, all decoded and checked by the router.
Handler = Callable[..., Awaitable[Response]]


class EventStream:
    """A `text/event-stream` answer (Server-Sent Events); `events` maps each event name to its data."""

    events: ClassVar[dict[str, Any]] = {"change": ShowChange, "reset": StreamMark, "heartbeat": StreamMark}


Auth = Literal["public", "customer", "admin", "scanner"]  # scanner: the scanner or the admin role


@dataclass(frozen=True)
class Param:
    name: str
    location: Literal["path", "query", "header"]
    kind: Any
    description: str
    required: bool = False
    default: Any = None  # what the handler gets when an optional parameter is absent
    invalid: str = ""  # the 422 message when the value breaks its type (else the type's own complaint)
    # A header read leniently, never refused: its lines joined by commas → what the handler gets (None: as
    # if absent). For headers whose RFC says a malformed value is ignored (Prefer, If-None-Match).
    lenient: Callable[[str], Any] | None = None

    @property
    def arg(self) -> str:
        """The handler's keyword argument: `Idempotency-Key` → `idempotency_key`."""
        return self.name.lower().replace("-", "_")


@dataclass(frozen=True)
class Header:
    """A header an operation's answers carry (documented under each status that names it)."""

    name: str
    description: str
    required: bool = True


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
    # The handler applies the write limit with its Idempotency-Key claim, in one round trip (Call.admit,
    # intake/admission.py); a refusal raised before that call checks the limit first (the order stays).
    limit_with_claim: bool = False
    limit_by: Literal["customer", "client"] = "customer"  # whose writes the limit counts: the caller's, or its IP's
    uses_stores: bool = True  # a backing store (Kafka, Redis, PostgreSQL) may be down: 503
    location: bool = False  # successful answers carry a Location header
    description: str = ""
    switch: Switch | None = None
    headers: dict[int, tuple[Header, ...]] = field(default_factory=dict)  # status -> headers its answers carry
    refusals: dict[int, str] = field(default_factory=dict)  # status -> why: refusals of the handler's own

    def __post_init__(self) -> None:
        assert not (self.rate_limited and self.auth == "public" and self.limit_by == "customer"), (
            "a public operation has no customer: limit it by client"
        )
        assert not self.limit_with_claim or self.rate_limited, "only a rate-limited operation claims with it"
        assert self.body is not None or self.body_required, "an optional body needs a body type"
        assert self.switch is None or self.switch.setting in Settings.__struct_fields__, self.switch
        assert all(p.lenient is None or p.location == "header" for p in self.params), "only headers are lenient"
        assert set(self.headers) <= set(self.ok), "headers are declared for the statuses of `ok`"

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
        if any(p.location in ("query", "header") and p.lenient is None for p in self.params):
            out[422] = "a parameter or the body breaks a rule of the contract (details name the path)"
        if self.auth != "public":
            out[401] = "no bearer token, or a bad one"
        if self.auth == "admin":
            out[403] = "the admin role is required"
        if self.auth == "scanner":
            out[403] = "the scanner (or admin) role is required"
        if any(p.location == "path" for p in self.params):
            out[404] = "no such resource (or not yours)"
        if self.rate_limited:
            who = "this customer" if self.limit_by == "customer" else "this client (IP address)"
            out[429] = f"too many writes by {who}; retry after Retry-After seconds"
        if self.uses_stores:
            out[503] = "a backing service (Kafka, Redis, PostgreSQL) is unavailable; retry after Retry-After"
        if self.switch is not None:
            out[404] = self.switch.off
        for status, why in self.refusals.items():
            out[status] = f"{out[status]}; or {why}" if status in out else why
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

# Conditional reads (intake/conditional.py): every 200 carries an ETag; If-None-Match naming it is a 304.
IF_NONE_MATCH = Param(
    "If-None-Match",
    "header",
    str,
    "entity tags (the ETag of an earlier answer), or `*`: 304 when one is the current tag; "
    "a value that is not a list of entity tags is ignored",
    lenient=entity_tags,
)
PREFER = Param(
    "Prefer",
    "header",
    str,
    f"`wait=N` (RFC 7240; N an integer of 1..{MAX_WAIT_S} seconds), with If-None-Match: answer 200 as soon as "
    "the booking's tag changes, else 304 after N seconds; any other preference or value is ignored",
    lenient=prefer_wait,
)
ETAG = Header("ETag", "the entity tag of this state (strong): send it back in If-None-Match")
PREFERENCE_APPLIED = Header(
    "Preference-Applied",
    "`wait=N` when the server waited as asked (absent when it did not: too many waiting requests)",
    required=False,
)
NOT_MODIFIED = (None, "not modified: an If-None-Match tag is the current one (no body)")
TAGGED = {200: (ETAG,), 304: (ETAG,)}

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
        rate_limited=True,
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
        {200: (ShowList, "a page"), 304: NOT_MODIFIED},
        params=(
            *PAGING,
            Param(
                "include_past",
                "query",
                bool,
                "`true`: also the shows that have started (no longer on sale); default `false`",
                default=False,
            ),
            IF_NONE_MATCH,
        ),
        headers=TAGGED,
        description="The ETag is a digest of the page: it changes whenever a listed show changes.",
    ),
    Operation(
        "GET",
        "/v1/admin/shows",
        routes.admin_shows,
        "the shows with their sales (admin): per section available, held and sold seats, and revenue",
        {200: (AdminShowList, "a page, by start time")},
        auth="admin",
        params=(
            *PAGING,
            Param("include_past", "query", bool, "`true`: also the shows that have started", default=False),
        ),
        description="Read from the read models (each show as of its last applied version); `revenue` is the "
        "confirmed seats' prices in minor units of the show's currency.",
    ),
    Operation(
        "GET",
        "/v1/shows/{show_id}",
        routes.get_show,
        "one show",
        {200: (ShowView, "the show"), 304: NOT_MODIFIED},
        params=(SHOW_ID, IF_NONE_MATCH),
        headers=TAGGED,
        description="The ETag is the show's version.",
    ),
    Operation(
        "GET",
        "/v1/shows/{show_id}/seats",
        routes.get_seat_map,
        "the show's seat map",
        {200: (SeatMapView, "held and booked seats; every other seat is available"), 304: NOT_MODIFIED},
        params=(SHOW_ID, IF_NONE_MATCH),
        headers=TAGGED,
        description="The ETag is the show's version (the map's `version`).",
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
        limit_with_claim=True,
        location=True,
        description=_CONTRACT_RULES + " A reused Idempotency-Key with another body: 422 `idempotency_key_reused`.",
    ),
    Operation(
        "GET",
        "/v1/bookings/{booking_id}",
        routes.get_booking,
        "a booking (its owner or an admin); with If-None-Match and `Prefer: wait=N`, when it changes",
        {
            200: (BookingView, "the booking (when asked to wait: as soon as its tag changed)"),
            304: (
                None,
                "not modified: an If-None-Match tag is the current one; with `Prefer: wait=N`, it still was "
                "after N seconds (Preference-Applied), or nothing was waited (too many waiting requests: no "
                "Preference-Applied; ask again later)",
            ),
        },
        auth="customer",
        params=(BOOKING_ID, IF_NONE_MATCH, PREFER),
        headers={200: (ETAG, PREFERENCE_APPLIED), 304: (ETAG, PREFERENCE_APPLIED)},
        description="The ETag is a digest of the booking's state; while RECEIVED it also changes with the "
        "place in line, and a request waiting for a change is answered at once when the booking is decided "
        "but for a move in the line only after about 5 s (or at the end of its wait).",
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
        refusals={
            409: "`payment_required`: payment is required (BOXOFFICE_PAYMENTS_REQUIRED) and the hold has a price"
        },
        description="With the server's BOXOFFICE_PAYMENTS_REQUIRED on, a hold with a price is confirmed only by its "
        "payment (POST /v1/bookings/{booking_id}/checkout, then the provider's signed webhook): confirm is for "
        "free seats. Off (the default, the v1 contract), confirm takes the payment reference as given.",
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
        description="At most the show's `max_hold_extensions` times, never past the sale's close. An extension "
        "accepted after `expires_at` finds the hold over: the booking is `EXPIRED` (`hold_expired`), as a late "
        "confirm finds it.",
    ),
    Operation(
        "PATCH",
        "/v1/shows/{show_id}",
        routes.update_show,
        "change a show's title, venue or start (admin); decided asynchronously",
        {202: (ShowAccepted, "accepted; the show reads changed, or with `update_refused` saying why it is not")},
        auth="admin",
        body=UpdateShowBody,
        params=(SHOW_ID,),
        rate_limited=True,
        location=True,
        description="Title and venue may change until the show is cancelled (`update_refused`: "
        "`show_cancelled`); the start only before the sale opens (`sale_open`: people may hold tickets for "
        "the time they bought; a show without `sale_opens_at` was on sale from its creation), to a time ahead "
        "and after the opening (`invalid_start`; a start in the past is 422 at once).",
    ),
    Operation(
        "POST",
        "/v1/shows/{show_id}/close",
        routes.close_sales,
        "close the show's sale now (admin); decided asynchronously",
        {202: (ShowAccepted, "accepted; the show's `sale_closes_at` becomes the moment it was accepted")},
        auth="admin",
        params=(SHOW_ID,),
        rate_limited=True,
        location=True,
        description="Requests accepted from then on are `REJECTED` `sale_closed`; holds made before may still be "
        "confirmed until they end (an extension stops at the close); the waiting list is answered `REFUSED` "
        "`sale_closed`. A sale closed already stays as it is.",
    ),
    Operation(
        "POST",
        "/v1/shows/{show_id}/cancel",
        routes.cancel_show,
        "cancel the show (admin); decided asynchronously",
        {202: (ShowAccepted, "accepted; the show's `cancelled_at` is set and its live bookings are cancelled")},
        auth="admin",
        params=(SHOW_ID,),
        rate_limited=True,
        location=True,
        description="In one decision: every PENDING and CONFIRMED booking becomes `CANCELLED` with reason "
        "`show_cancelled` (each customer is emailed), the waiting list and any fair start's waiting requests "
        "are answered (`show_cancelled`), and every later request is `REJECTED` `show_cancelled`. Final.",
    ),
    Operation(
        "POST",
        "/v1/shows/{show_id}/waitlist",
        routes.join_waitlist,
        "join the show's waiting list for a number of seats; decided asynchronously",
        {202: (WaitlistAccepted, "accepted; `GET /v1/shows/{show_id}/waitlist/me` follows the place")},
        auth="customer",
        body=WaitlistBody,
        params=(SHOW_ID,),
        rate_limited=True,
        location=True,
        description="A `section` the show's layout does not have is 422 (`$.section`). "
        "Taken only while the seats asked for are not free (else `REFUSED` `seats_available`: "
        "book them), within the sale (`sale_not_open`, `sale_closed`) and the customer's limit "
        "(`customer_limit`). Seats released later (an expiry, a cancellation) are offered in join order: each "
        "waiting customer whose request the free seats can meet gets them held as a PENDING booking for the "
        "show's `waitlist_offer_seconds` (`OFFERED`, with `booking_id`, and an email); one that cannot be met "
        "keeps its place. An offer not confirmed in time expires, and its seats go to the next. Joining again "
        "while waiting keeps the first place.",
    ),
    Operation(
        "DELETE",
        "/v1/shows/{show_id}/waitlist",
        routes.leave_waitlist,
        "leave the show's waiting list; decided asynchronously",
        {202: (WaitlistAccepted, "accepted; the place becomes `LEFT` (an offer already made stays a booking)")},
        auth="customer",
        params=(SHOW_ID,),
        rate_limited=True,
        location=True,
    ),
    Operation(
        "GET",
        "/v1/shows/{show_id}/waitlist/me",
        routes.my_waitlist,
        "my place on the show's waiting list",
        {200: (WaitlistView, "the place: `position` (1 = next) and `waiting` while WAITING")},
        auth="customer",
        params=(SHOW_ID,),
    ),
    Operation(
        "POST",
        "/v1/bookings/{booking_id}/checkout",
        routes.checkout,
        "pay for a held booking (its owner): a hosted checkout at the payment provider for the hold's total",
        {200: (CheckoutView, "send the buyer to `url`; the booking is confirmed by the provider's signed webhook")},
        auth="customer",
        params=(BOOKING_ID,),
        rate_limited=True,
        refusals={409: "`not_pending`: the booking is not a PENDING hold; `nothing_to_pay`: its seats are free"},
        description="The same hold asked again gets the same checkout; after an extension, a new one (the old is "
        "voided). When the provider's paid notice reaches the API before `expires_at`, for the hold's total, the "
        "booking becomes CONFIRMED with `payment` `paid`; later (or for another amount) the money is refunded "
        "(`payment.status` "
        "`refund_requested`, then `refunded`). A hold that ends with its checkout unpaid has it voided.",
    ),
    Operation(
        "POST",
        "/v1/payments/webhook/{provider}",
        routes.payment_webhook,
        "the payment provider's signed webhook (no bearer token: its signature authenticates it)",
        {200: (WebhookReceived, "taken (queued as a command), or an event type boxoffice does not act on")},
        body=ProviderEventBody,
        params=(
            Param("provider", "path", ProviderName, "the provider's name (`dev` on the local stack)", required=True),
        ),
        refusals={
            400: "`invalid_signature`, `stale_webhook` (signed more than 300 s away: a replay), `invalid_webhook`"
        },
        description='Stripe\'s scheme: `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` '
        "with the endpoint's secret. A copy of a notice is decided as a no-op (a payment settles once).",
    ),
    Operation(
        "GET",
        "/v1/bookings/{booking_id}/tickets",
        routes.get_tickets,
        "the tickets of a booking (its owner or an admin): one per seat while CONFIRMED, with its signed code",
        {200: (TicketList, "the tickets; show each code as a QR code")},
        auth="customer",
        params=(BOOKING_ID,),
        description="No tickets while the booking is not CONFIRMED (not paid for yet, or cancelled). A code is "
        "`BX1.<payload>.<signature>`, signed with the show's Ed25519 key (`GET /v1/shows/{show_id}/ticket-key`).",
    ),
    Operation(
        "GET",
        "/v1/shows/{show_id}/ticket-key",
        routes.ticket_key,
        "the show's ticket verification key (Ed25519), for scanners that check codes offline",
        {200: (TicketKey, "the public key")},
        params=(SHOW_ID,),
    ),
    Operation(
        "POST",
        "/v1/checkins",
        routes.check_in,
        "check a ticket in at a gate (scanner or admin)",
        {
            200: (
                CheckinView,
                "`status` DECIDED with `result` admitted, already_used, revoked or invalid; or RECEIVED: queued, "
                "not decided within the wait (follow `GET /v1/checkins/{checkin_id}`)",
            )
        },
        auth="scanner",
        body=CheckinBody,
        rate_limited=True,
        description="A code that is not one of ours (malformed, or its signature does not verify with its show's "
        "key) is `invalid` at once. A signed one is decided in the show's queue: the first scan of a ticket of a "
        "CONFIRMED booking is `admitted`; every later scan of it, at any gate, `already_used` with when and "
        "where it was admitted; a ticket of a booking no longer CONFIRMED (cancelled, expired) `revoked`.",
    ),
    Operation(
        "GET",
        "/v1/checkins/{checkin_id}",
        routes.get_checkin,
        "the answer to a scan (scanner or admin)",
        {200: (CheckinView, "decided")},
        auth="scanner",
        params=(Param("checkin_id", "path", CommandId, "a check-in id (`ci_…`)", required=True),),
        description="404 until it is decided.",
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
        "development sign-in: a customer token for a name",
        {200: (DevToken, "a bearer token (issuer `boxoffice-dev`, role customer)")},
        body=DevTokenBody,
        rate_limited=True,
        limit_by="client",
        uses_stores=False,
        description="Only when the server runs with BOXOFFICE_DEV_SIGNIN=1 (the local stack, on loopback); "
        "404 otherwise. Its tokens carry the issuer `boxoffice-dev`, which the API accepts only while dev "
        "sign-in is on, and never the admin role. Production tokens come from the identity provider.",
        switch=Switch("dev_signin", "development sign-in is off"),
    ),
)
