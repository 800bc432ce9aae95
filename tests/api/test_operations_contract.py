"""Every operation enforces what /openapi.json says of it, and answers nothing it does not say.

For each operation of the served document: a valid request answers a documented 2xx; each documented
parameter, body, bearer token, role, write limit and backing store is broken in turn and answers its
documented status; every documented status is produced by one of those requests and no request answers an
undocumented one. When several things are wrong at once, the refusal is the first in the router's order
(intake/router.py). The only hand-written parts are a valid request per operation and a bad value per
parameter name: a parameter the document gains without a bad value here fails the test."""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import msgspec
import pytest
import redis.exceptions

from intake.app import create_app
from intake.openapi import openapi_document
from intake.operations import OPERATIONS
from intake.state import IntakeState
from intake.tickets import TicketKeys
from intake.tokens import mint
from payments.stripe import signature_header
from runtime.settings import Settings
from schemas.api import BookingView, CheckinView, ErrorBody, ShowView, WaitlistView
from schemas.layout import Section
from tests.support.fakes import FAKE_WEBHOOK_SECRET, FakeRateLimiter, fake_state
from tests.support.keys import key_env, session_signer

SHOW = "sh_known"
T0 = datetime(2027, 1, 1, 20, tzinfo=UTC)
DOCUMENT = msgspec.json.decode(openapi_document())
BY_ID = {op.handler.__name__: op for op in OPERATIONS}
OPERATION_IDS = [spec["operationId"] for methods in DOCUMENT["paths"].values() for spec in methods.values()]

SHOW_BODY = {
    "title": "t",
    "venue": "v",
    "starts_at": "2099-01-01T00:00:00Z",
    "sections": [{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 1}],
}
# A valid body per operation that declares one.
BODIES: dict[str, Any] = {
    "create_show": SHOW_BODY,
    "request_booking": {"quantity": 1},
    "confirm_booking": {"payment_reference": "p-1"},
    "cancel_booking": {},
    "extend_booking": {},
    "join_waitlist": {"quantity": 2},
    "update_show": {"title": "Renamed"},
    "dev_token": {"sub": "dora"},
    "check_in": {"code": "signed in _valid", "gate": "north"},
    "payment_webhook": {
        "id": "evt_1",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_test_1",
                "object": "checkout.session",
                "payment_intent": "pi_test_1",
                "amount_total": 100,
                "currency": "eur",
                "payment_status": "paid",
                "metadata": {"booking_id": "bk_alice", "show_id": SHOW},
            }
        },
    },
}
# What makes an operation refuse with a status of its handler's own (Operation.refusals), from its valid request.
OWN_REFUSALS: dict[str, dict[int, dict[str, Any]]] = {
    "checkout": {409: {"params": {"booking_id": "bk_paid"}}},
    "confirm_booking": {409: {"env": {"BOXOFFICE_PAYMENTS_REQUIRED": "1"}}},
    "payment_webhook": {400: {"extra_headers": {"Stripe-Signature": "t=1,v1=forged"}}},
}
# A valid and a bad value per parameter name (a bad path id names nothing: 404; others: 422).
GOOD = {
    "show_id": SHOW,
    "booking_id": "bk_alice",
    "limit": "5",
    "cursor": "c0",
    "after": "0",
    "Idempotency-Key": "k",
    "include_past": "true",
    "checkin_id": "ci_known",
    "provider": "dev",
}
BAD = {
    "show_id": "sh_\x00",
    "booking_id": "bk_ \x00",
    "limit": "0",
    "cursor": "%%%",
    "after": "\u0661",
    "Idempotency-Key": "x" * 129,
    "include_past": "yes",
    "checkin_id": "ci_\x00",
    "provider": "Dev!",
}
LENIENT = {"If-None-Match": "nonsense", "Prefer": "wait=forever"}  # malformed values, read as absent
ROLE = {"admin": ("ops", "admin"), "customer": ("alice", "customer")}


def _spec(operation_id: str) -> tuple[str, str, dict[str, Any]]:
    for path, methods in DOCUMENT["paths"].items():
        for method, spec in methods.items():
            if spec["operationId"] == operation_id:
                return path, method.upper(), spec
    raise KeyError(operation_id)


class _Down:
    """An adapter whose store does not answer."""

    def __getattr__(self, name: str):
        async def fail(*args: Any, **kwargs: Any) -> Any:
            raise redis.exceptions.ConnectionError("the store is down")

        return fail


@dataclass
class Probe:
    """One request to an operation, and the state of the world it meets."""

    operation_id: str
    method: str
    params: dict[str, str]  # name -> raw value, for path, query and header parameters alike
    token: tuple[str, str] | None  # (sub, role)
    body: bytes | None = None
    content_type: str | None = "application/json"
    limiter_refuses: bool = False
    switch_off: bool = False
    stores_down: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # settings of the server for this request


def _valid(operation_id: str) -> Probe:
    _, method, spec = _spec(operation_id)
    params = {p["name"]: GOOD[p["name"]] for p in spec.get("parameters", []) if p["name"] not in LENIENT}
    params.pop("cursor", None)  # a valid cursor is one the API issued: none yet
    token = None
    if "security" in spec:
        token = ROLE["admin" if "403" in spec["responses"] else "customer"]
    body = msgspec.json.encode(BODIES[operation_id]) if "requestBody" in spec else None
    if operation_id == "check_in":  # a code the test stack's ticket key signed, of a seat of a known booking
        keys = TicketKeys.load(Settings.from_env(key_env()).require_ticket_key())
        body = msgspec.json.encode({**BODIES[operation_id], "code": keys.sign(SHOW, "bk_alice", "A-1-1")})
    headers = {}
    if operation_id == "payment_webhook":  # signed as the provider signs
        headers["Stripe-Signature"] = signature_header(FAKE_WEBHOOK_SECRET, body or b"", int(time.time()))
    return Probe(operation_id, method, params, token, body, extra_headers=headers)


def _state(probe: Probe) -> tuple[Settings, IntakeState]:
    env = {
        **key_env(),
        "BOXOFFICE_DEV_SIGNIN": "0" if probe.switch_off else "1",
        "BOXOFFICE_CHECKIN_WAIT_S": "0",
        **probe.env,
    }
    settings = Settings.from_env(env)
    state = fake_state(settings)
    state.reads.shows[SHOW] = ShowView(SHOW, "t", "v", T0, 120, [Section("A", 2, 3, 100)], 6, 6)
    state.reads.bookings["bk_alice"] = BookingView(
        "bk_alice", SHOW, "alice", "PENDING", ["A-1-1"], None, T0, T0, T0, total=100, currency="EUR"
    )
    state.reads.bookings["bk_paid"] = BookingView("bk_paid", SHOW, "alice", "CONFIRMED", ["A-1-2"], None, None, T0, T0)
    state.reads.waitlist[(SHOW, "alice")] = WaitlistView(SHOW, "alice", "WAITING", 2, T0, position=1, waiting=1)
    state.reads.checkins["ci_known"] = CheckinView("DECIDED", "ci_known", "admitted", show_id=SHOW)
    if probe.limiter_refuses:
        state.limiter = FakeRateLimiter(1, 0)
    if probe.stores_down:
        state.bus.down = True
        state.reads = state.history = state.idempotency = state.streams = _Down()  # type: ignore[assignment]
    return settings, state


async def _send(probe: Probe, state: tuple[Settings, IntakeState] | None = None) -> httpx.Response:
    settings, intake = state or _state(probe)
    path, _, spec = _spec(probe.operation_id)
    where = {p["name"]: p["in"] for p in spec.get("parameters", [])}
    query, headers = {}, dict(probe.extra_headers)
    for name, value in probe.params.items():
        if where[name] == "path":
            path = path.replace("{" + name + "}", quote(value, safe=""))
        elif where[name] == "query":
            query[name] = value
        else:
            headers[name] = value
    if probe.token is not None:
        headers["Authorization"] = f"Bearer {mint(session_signer(settings), *probe.token, 600)}"
    if probe.body is not None and probe.content_type is not None:
        headers["Content-Type"] = probe.content_type
    transport = httpx.ASGITransport(app=create_app(settings, state=intake))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        return await http.request(probe.method, path, params=query, headers=headers, content=probe.body)


def _refusals(operation_id: str) -> list[tuple[str, Probe, int]]:
    """(what is broken, the request, the status the document gives it) for everything the operation checks."""
    _, _, spec = _spec(operation_id)
    valid = _valid(operation_id)
    out: list[tuple[str, Probe, int]] = []
    if BY_ID[operation_id].switch is not None:
        out.append(("switched off", replace(valid, switch_off=True), 404))
    if "security" in spec:
        out.append(("no token", replace(valid, token=None), 401))
        out.append(("a forged token", replace(valid, extra_headers={"Authorization": "Bearer x.y.z"}, token=None), 401))
    if "403" in spec["responses"]:
        out.append(("a customer", replace(valid, token=ROLE["customer"]), 403))
    if "429" in spec["responses"]:
        out.append(("over the write limit", replace(valid, limiter_refuses=True), 429))
    for p in spec.get("parameters", []):
        if p["name"] in LENIENT:
            continue  # never refused (test_conditional_reads below)
        bad = {**valid.params, p["name"]: BAD[p["name"]]}
        out.append((f"bad {p['name']}", replace(valid, params=bad), 404 if p["in"] == "path" else 422))
        if p["required"] and p["in"] != "path":
            missing = {k: v for k, v in valid.params.items() if k != p["name"]}
            out.append((f"no {p['name']}", replace(valid, params=missing), 422))
    if "requestBody" in spec:
        out += [
            ("malformed JSON", replace(valid, body=b'{"'), 400),
            ("a body over 16 KiB", replace(valid, body=b'{"x": "' + b"a" * 17_000 + b'"}'), 413),
            ("a text/plain body", replace(valid, content_type="text/plain"), 415),
            ("a body of the wrong shape", replace(valid, body=b"[]"), 422),
        ]
        if spec["requestBody"]["required"]:
            out.append(("no body", replace(valid, body=None), 400))
    if "503" in spec["responses"]:
        out.append(("the stores down", replace(valid, stores_down=True), 503))
    return out


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
async def test_every_operation_enforces_what_the_document_says(operation_id):
    path, _, spec = _spec(operation_id)
    operation = BY_ID[operation_id]
    documented = {int(s) for s in spec["responses"]}
    lacking = next(m for m in ("PATCH", "PUT", "DELETE") if m.lower() not in DOCUMENT["paths"][path])
    answered: dict[int, str] = {}

    def saw(what: str, r: httpx.Response) -> None:
        """The answer is documented, with the documented body and required headers."""
        assert r.status_code in documented, (what, r.status_code, r.text)
        response = spec["responses"][str(r.status_code)]
        for name, header in response.get("headers", {}).items():
            assert not header.get("required") or name in r.headers, (what, name)
        if "Location" in response.get("headers", {}):
            assert r.headers["Location"].startswith("/v1/"), what
        (media,) = response.get("content", {"": None})
        if r.status_code == 304:
            assert not r.content, what
            answered.setdefault(304, what)
            return
        assert r.headers["content-type"].startswith(media), (what, r.headers["content-type"])
        if media == "application/json":
            kind, _ = operation.ok.get(r.status_code, (ErrorBody, ""))
            msgspec.json.decode(r.content, type=kind)  # the documented record, or this raises
        answered.setdefault(r.status_code, what)

    valid = _valid(operation_id)
    state = _state(valid)
    first = await _send(valid, state)
    assert 200 <= first.status_code < 300, first.text
    saw("a valid request", first)
    saw("the same request again", await _send(valid, state))
    if "requestBody" in spec and not spec["requestBody"]["required"]:
        saw("no body (optional)", await _send(replace(valid, body=None)))
    if "security" not in spec:  # a public operation does not look at tokens
        saw("a forged token", await _send(replace(valid, extra_headers={"Authorization": "Bearer x.y.z"})))
    if "403" not in spec["responses"] and "security" in spec:
        saw("an admin", await _send(replace(valid, token=ROLE["admin"])))
    if "429" not in spec["responses"]:
        saw("a write limit that refuses everything", await _send(replace(valid, limiter_refuses=True)))
    if "503" not in spec["responses"]:
        assert (await _send(replace(valid, stores_down=True))).status_code < 500, "needs no backing store"
    if "304" in spec["responses"]:
        tag = first.headers["ETag"]
        saw("its own ETag", await _send(replace(valid, extra_headers={"If-None-Match": tag}), state))
        for name, malformed in LENIENT.items():
            if any(p["name"] == name for p in spec["parameters"]):
                r = await _send(replace(valid, extra_headers={name: malformed}), state)
                assert r.status_code == first.status_code, (name, r.status_code, r.text)
    for status, change in OWN_REFUSALS.get(operation_id, {}).items():
        mended = replace(valid, **{k: {**getattr(valid, k), **v} for k, v in change.items()})
        r = await _send(mended)
        assert r.status_code == status, (change, r.status_code, r.text)
        saw(f"its own refusal {status}", r)
    for what, probe, status in _refusals(operation_id):
        r = await _send(probe)
        assert r.status_code == status, (what, r.status_code, r.text)
        saw(what, r)
    other = await _send(replace(valid, method=lacking))
    assert other.status_code == 405 and other.headers["Allow"]
    answered.setdefault(405, "a method the path lacks")
    assert set(answered) == documented, f"documented but never answered: {documented - set(answered)}"


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
async def test_the_first_refusal_in_the_router_s_order_wins(operation_id):
    """Everything broken at once, then mended one by one in the router's order: each answer is the refusal
    of the first thing still broken (401 before 403 before 429 before the headers, the body, the path ids
    and the query parameters)."""
    refusals = _refusals(operation_id)
    order = ["switched off", "no token", "a customer", "over the write limit"]
    order += [f"bad {p}" for p in ("Idempotency-Key",)] + ["malformed JSON"]
    order += [f"bad {p}" for p in ("show_id", "booking_id", "limit", "cursor", "after")] + ["the stores down"]
    steps = sorted(
        [(what, probe, status) for what, probe, status in refusals if what in order], key=lambda r: order.index(r[0])
    )
    valid = _valid(operation_id)
    for i, (what, _, status) in enumerate(steps):
        broken = valid
        for _, probe, _ in reversed(steps[i:]):  # everything from this step on is broken (the earlier wins)
            broken = _merge(broken, probe, valid)
        r = await _send(broken)
        assert r.status_code == status, (operation_id, what, r.status_code, r.text)


def _merge(into: Probe, probe: Probe, valid: Probe) -> Probe:
    """`into` with whatever `probe` changed from the valid request."""
    changes = {
        f: getattr(probe, f)
        for f in ("token", "body", "content_type", "limiter_refuses", "switch_off", "stores_down", "extra_headers")
        if getattr(probe, f) != getattr(valid, f)
    }
    params = {**into.params, **{k: v for k, v in probe.params.items() if valid.params.get(k) != v}}
    return replace(into, params=params, **changes)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.handler.__name__)
def test_each_handler_takes_what_its_operation_declares(operation):
    """The router calls handler(call, **arguments): the handler's keyword parameters are exactly the
    operation's parameters, its body and, when authenticated, its principal."""
    declared = {p.arg for p in operation.params}
    if operation.body is not None:
        declared.add("body")
    if operation.auth != "public":
        declared.add("principal")
    parameters = inspect.signature(operation.handler).parameters
    assert next(iter(parameters)) == "call"
    assert {name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY} == declared
