"""The fast lane: the real starlette app in process (httpx ASGITransport), fakes only for Kafka, Redis and
PostgreSQL. The bad-input and auth battery, the error model, Allow, and a property: whatever the body, the
answer is never a 5xx, and a 202 always published a command the processor decodes."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.app import create_app, routes
from intake.openapi import openapi_document
from intake.tokens import mint
from runtime.settings import Settings
from schemas.api import BookingView, ShowView
from schemas.commands import decode_command
from schemas.layout import Section
from tests.support.fakes import fake_state
from tests.support.keys import good_claims, hs256_with, key_env, session_dev_signer, session_signer, sign, unsigned

SIGNER = session_signer()
SHOW = "sh_known"
T0 = datetime(2099, 1, 1, 20, tzinfo=UTC)


@pytest.fixture
def app_state():
    app_settings = Settings.from_env({**key_env(), "BOXOFFICE_DEV_SIGNIN": "1"})
    state = fake_state(app_settings)
    state.reads.shows[SHOW] = ShowView(SHOW, "t", "v", T0, 120, [Section("A", 2, 3, 100)], 6, 6)
    state.reads.bookings["bk_alice"] = BookingView("bk_alice", SHOW, "alice", "PENDING", ["A-1-1"], None, T0, T0, T0)
    return app_settings, state


@pytest.fixture
async def client(app_state):
    app_settings, state = app_state
    transport = httpx.ASGITransport(app=create_app(app_settings, state=state))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        yield http


def auth(sub: str = "alice", role: str = "customer", **claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(SIGNER, sub, role, 600, **claims)}"}


def booking_headers(key: str = "k1", **kw) -> dict[str, str]:
    return {**auth(**kw), "Idempotency-Key": key, "Content-Type": "application/json"}


def error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()["error"]
    assert body["code"] == code and body["message"]
    return body


# ---------------------------------------------------------------- bad input: each a clear 4xx
@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"quantity": ', 400, "malformed_json"),
        (b'"\\ud800"', 400, "malformed_json"),  # a lone surrogate cannot be stored as text
        (b'{"quantity": "2"}', 422, "validation_error"),
        (b'{"quantity": 0}', 422, "validation_error"),
        (b'{"quantity": 11}', 422, "validation_error"),
        (b'{"quantity": true}', 422, "validation_error"),
        (b'{"quantity": 1e400}', 422, "validation_error"),
        (b'{"seats": []}', 422, "validation_error"),
        (b'{"seats": ["A-1-1", "A-1-1"]}', 422, "validation_error"),
        (b"{}", 422, "validation_error"),
        (b'{"quantity": 1, "extra": 1}', 422, "validation_error"),
        (b"null", 422, "validation_error"),
        # seat ids in other scripts' digits: refused here, not accepted and dead-lettered later
        ('{"seats": ["A-\u00b9-1"]}'.encode(), 422, "validation_error"),
        ('{"seats": ["A-\u0661-\u0661"]}'.encode(), 422, "validation_error"),
        (b'{"seats": ["A-1-1\\u0000"]}', 422, "validation_error"),
        (b'{"seats": ["A-2-4"]}', 422, "validation_error"),  # outside the layout
    ],
)
async def test_booking_bodies(client, body, status, code):
    r = await client.post(f"/v1/shows/{SHOW}/bookings", content=body, headers=booking_headers())
    error(r, status, code)


@pytest.mark.parametrize("field", ["title", "venue"])
async def test_nul_in_a_show_is_refused_not_accepted(client, app_state, field):
    body = {
        "title": "t",
        "venue": "v",
        "starts_at": "2099-01-01T00:00:00Z",
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}],
        field: "a\x00b",
    }
    r = await client.post("/v1/shows", json=body, headers=auth("ops", "admin"))
    assert error(r, 422, "validation_error")["details"]["path"] == f"$.{field}"
    assert app_state[1].bus.sent == []


@pytest.mark.parametrize(
    "starts_at",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+23:59", "2027-01-01T00:00:00"],
)
async def test_times_at_the_edges_of_the_calendar(client, starts_at):
    body = {
        "title": "t",
        "venue": "v",
        "starts_at": starts_at,
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}],
    }
    error(await client.post("/v1/shows", json=body, headers=auth("ops", "admin")), 422, "validation_error")


async def test_payment_reference_with_nul_is_refused(client, app_state):
    r = await client.post("/v1/bookings/bk_alice/confirm", json={"payment_reference": "p\x00"}, headers=auth())
    error(r, 422, "validation_error")
    assert app_state[1].bus.sent == []


@pytest.mark.parametrize("limit", ["0", "501", "-1", "1.5", "abc", "\u00b9", "\u0665", "9" * 5000, ""])
async def test_limit(client, limit):
    error(await client.get("/v1/shows", params={"limit": limit}), 422, "validation_error")
    error(await client.get("/v1/me/bookings", params={"limit": limit}, headers=auth()), 422, "validation_error")


@pytest.mark.parametrize("cursor", ["", "a b", "%%%", "x" * 600])
async def test_cursor(client, cursor):
    error(await client.get("/v1/shows", params={"cursor": cursor}), 422, "validation_error")


async def test_sizes_types_and_keys(client):
    error(
        await client.post(
            f"/v1/shows/{SHOW}/bookings", content=b'{"seats": ["' + b"A" * 20_000 + b'"]}', headers=booking_headers()
        ),
        413,
        "payload_too_large",
    )
    error(
        await client.post(
            f"/v1/shows/{SHOW}/bookings",
            content=b'{"quantity": 1}',
            headers={**booking_headers(), "Content-Type": "text/plain"},
        ),
        415,
        "unsupported_media_type",
    )
    headers = booking_headers()
    del headers["Idempotency-Key"]
    error(
        await client.post(f"/v1/shows/{SHOW}/bookings", json={"quantity": 1}, headers=headers), 422, "validation_error"
    )
    for key in [b"x" * 129, b"tab\there", "caf\u00e9".encode()]:
        r = await client.post(
            f"/v1/shows/{SHOW}/bookings", json={"quantity": 1}, headers={**booking_headers(), "Idempotency-Key": key}
        )
        error(r, 422, "validation_error")


async def test_unknown_resources(client):
    error(await client.get("/v1/shows/sh_nope"), 404, "not_found")
    error(await client.get("/v1/shows/%00"), 404, "not_found")
    error(
        await client.post("/v1/shows/sh_nope/bookings", json={"quantity": 1}, headers=booking_headers()),
        404,
        "not_found",
    )
    error(await client.get("/v1/nowhere"), 404, "not_found")


async def test_a_rejected_show_says_so(client, app_state):
    app_state[1].reads.rejected["sh_bad"] = "invalid_request"
    body = error(await client.get("/v1/shows/sh_bad"), 404, "not_found")
    assert body["details"] == {"status": "REJECTED", "reason": "invalid_request"}


# ---------------------------------------------------------------- auth
async def test_auth_battery(client):
    url = f"/v1/shows/{SHOW}/bookings"
    error(await client.post(url, json={"quantity": 1}, headers={"Idempotency-Key": "k"}), 401, "unauthorized")
    now = int(time.time())
    for token in [
        "not-a-jwt",
        mint(SIGNER, "x", ttl=60, now=now - 61),  # expired
        sign(good_claims(SIGNER, now, role="admin"), Ed25519PrivateKey.generate(), SIGNER.kid),  # forged
        hs256_with(
            SIGNER.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
            good_claims(SIGNER, now, role="admin"),
            SIGNER.kid,
        ),  # alg confusion
        unsigned(good_claims(SIGNER, now, role="admin"), SIGNER.kid),  # alg none
        sign(good_claims(SIGNER, now, exp=str(now + 600)), SIGNER.key, SIGNER.kid),  # exp a string
        sign(good_claims(SIGNER, now, iss=None), SIGNER.key, SIGNER.kid),  # no iss
        sign(good_claims(SIGNER, now, aud="elsewhere"), SIGNER.key, SIGNER.kid),  # another audience
        mint(SIGNER, "x", ttl=86401, now=now),  # lives longer than 24 h
        sign(good_claims(SIGNER, now, role="root"), SIGNER.key, SIGNER.kid),
        sign(good_claims(SIGNER, now, email="x\x00@y.z"), SIGNER.key, SIGNER.kid),
        sign(good_claims(session_dev_signer(), now, role="admin"), session_dev_signer().key, session_dev_signer().kid),
    ]:
        r = await client.post(
            url, json={"quantity": 1}, headers={"Idempotency-Key": "k", "Authorization": f"Bearer {token}"}
        )
        error(r, 401, "unauthorized")
    body = {
        "title": "t",
        "venue": "v",
        "starts_at": "2099-01-01T00:00:00Z",
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}],
    }
    error(await client.post("/v1/shows", json=body, headers=auth()), 403, "forbidden")
    error(await client.get("/v1/bookings/bk_alice", headers=auth("mallory")), 404, "not_found")
    assert (await client.get("/v1/bookings/bk_alice", headers=auth("ops", "admin"))).status_code == 200
    error(await client.post("/v1/bookings/bk_alice/cancel", headers=auth("ops", "admin")), 404, "not_found")


async def test_rate_limit_answers_429_with_retry_after(app_state):
    app_settings, state = app_state
    from tests.support.fakes import FakeRateLimiter

    state.limiter = FakeRateLimiter(1, 2)
    transport = httpx.ASGITransport(app=create_app(app_settings, state=state))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        answers = [
            await http.post(f"/v1/shows/{SHOW}/bookings", json={"quantity": 1}, headers=booking_headers(f"k{i}"))
            for i in range(4)
        ]
    assert [r.status_code for r in answers][:2] == [202, 202]
    assert error(answers[-1], 429, "rate_limited") and int(answers[-1].headers["Retry-After"]) >= 1


async def test_show_creation_is_rate_limited_like_other_writes(app_state):
    app_settings, state = app_state
    from tests.support.fakes import FakeRateLimiter

    state.limiter = FakeRateLimiter(1, 2)
    body = {
        "title": "t",
        "venue": "v",
        "starts_at": "2027-01-01T00:00:00Z",
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}],
    }
    transport = httpx.ASGITransport(app=create_app(app_settings, state=state))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        answers = [await http.post("/v1/shows", json=body, headers=auth("ops", "admin")) for _ in range(3)]
    assert [r.status_code for r in answers] == [202, 202, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1 and state.limiter.used == {"ops": 3}


@pytest.mark.parametrize("field", ["title", "venue"])
@pytest.mark.parametrize("text", ["\u202etxet", "a\u2067b", "zero\u200bwidth", "\ufeffx", "  \u3000 "])
async def test_show_text_people_would_misread_is_422_naming_the_path(client, field, text):
    body = {
        "title": "t",
        "venue": "v",
        "starts_at": "2027-01-01T00:00:00Z",
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}],
        field: text,
    }
    r = await client.post("/v1/shows", json=body, headers=auth("ops", "admin"))
    assert error(r, 422, "validation_error")["details"]["path"] == f"$.{field}"


async def test_kafka_down_is_503_with_retry_after(client, app_state):
    app_state[1].bus.down = True
    r = await client.post(f"/v1/shows/{SHOW}/bookings", json={"quantity": 1}, headers=booking_headers())
    error(r, 503, "unavailable")
    assert r.headers["Retry-After"]
    r = await client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"] == {"kafka": False, "redis": True}


# ---------------------------------------------------------------- routing and the document
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/shows", {"GET", "HEAD", "POST"}),
        ("DELETE", f"/v1/shows/{SHOW}", {"GET", "HEAD", "PATCH"}),
        ("GET", f"/v1/shows/{SHOW}/bookings", {"POST"}),
        ("PATCH", "/healthz", {"GET", "HEAD"}),
    ],
)
async def test_405_names_every_method_of_the_path(client, method, path, allow):
    r = await client.request(method, path)
    error(r, 405, "method_not_allowed")
    assert {m.strip() for m in r.headers["Allow"].split(",")} == allow


async def test_the_document_describes_every_route_and_nothing_else(client):
    document = (await client.get("/openapi.json")).json()
    served = {(route.path, m) for route in routes() for m in route.methods if m != "HEAD"}
    documented = {(path, m.upper()) for path, ops in document["paths"].items() for m in ops}
    assert served == documented
    assert document["components"]["schemas"]["BookingBody"]["oneOf"]
    text = openapi_document().decode()
    assert "\\\\A" not in text and "\\\\Z" not in text  # patterns spelled for JSON Schema


async def test_dev_sign_in_mints_customers_of_the_dev_issuer_only(client, app_state):
    r = await client.post("/v1/dev/token", json={"sub": "dora"})
    assert r.status_code == 200 and r.json()["role"] == "customer"
    token = r.json()["token"]
    assert jwt_claims(token)["iss"] == "boxoffice-dev"
    assert (await client.get("/v1/me/bookings", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    admin = await client.post("/v1/dev/token", json={"sub": "dora", "role": "admin"})
    assert error(admin, 422, "validation_error")["details"]["path"] == "$.role"
    error(await client.post("/v1/dev/token", json={"sub": "bad name!"}), 422, "validation_error")
    # Off: the route is 404, and the tokens it minted are no longer accepted (their issuer is not trusted).
    state = app_state[1]
    off = Settings.from_env(key_env())
    state.settings, state.tokens, state.dev_tokens = off, fake_state(off).tokens, None
    transport = httpx.ASGITransport(app=create_app(off, state=state))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        error(await http.post("/v1/dev/token", json={"sub": "dora"}), 404, "not_found")
        error(await http.get("/v1/me/bookings", headers={"Authorization": f"Bearer {token}"}), 401, "unauthorized")
        assert (await http.get("/v1/me/bookings", headers=auth("dora"))).status_code == 200


async def test_dev_sign_in_is_limited_per_client_address(app_state):
    from tests.support.fakes import FakeRateLimiter

    app_settings, state = app_state
    state.limiter = FakeRateLimiter(1, 3)
    transport = httpx.ASGITransport(app=create_app(app_settings, state=state), client=("192.0.2.7", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        answers = [await http.post("/v1/dev/token", json={"sub": f"p{n}"}) for n in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert state.limiter.used == {"ip:192.0.2.7": 4}  # one budget for the address, whatever the names


def test_dev_sign_in_refuses_to_start_off_loopback():
    from runtime.settings import SettingsError

    with pytest.raises(SettingsError, match="loopback"):
        create_app(Settings.from_env({**key_env(), "BOXOFFICE_DEV_SIGNIN": "1", "BOXOFFICE_HTTP_HOST": "0.0.0.0"}))


def jwt_claims(token: str) -> dict:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})


# ---------------------------------------------------------------- properties
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
seatish = st.text(alphabet=st.sampled_from("A-1230\u00b9\u0661\x00 B"), min_size=0, max_size=8)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"seats": st.lists(seatish | st.sampled_from(["A-1-1", "A-2-3", "A-1-2"]), max_size=12)}),
    st.fixed_dictionaries({"quantity": st.integers(-2, 12) | json_values}),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, key=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=20))
async def test_any_body_is_answered_4xx_or_accepted_decodably(client, app_state, body, key):
    bus = app_state[1].bus
    before = len(bus.raw)
    r = await client.post(f"/v1/shows/{SHOW}/bookings", content=msgspec.json.encode(body), headers=booking_headers(key))
    assert r.status_code < 500, r.text
    if r.status_code == 202:
        assert len(bus.raw) == before + 1
        command = decode_command(bus.raw[-1], SHOW.encode())  # what the processor will do with it
        assert command.booking_id == r.json()["booking_id"]
    elif r.status_code >= 400:
        assert r.json()["error"]["code"]


async def test_a_show_creation_with_an_idempotency_key_is_safe_to_retry(client, app_state):
    body = {
        "title": "t",
        "venue": "v",
        "starts_at": "2099-01-01T00:00:00Z",
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 1}],
    }
    headers = {**auth("ops", "admin"), "Idempotency-Key": "create-1"}
    first = await client.post("/v1/shows", json=body, headers=headers)
    again = await client.post("/v1/shows", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["show_id"] == again.json()["show_id"]
    error(
        await client.post("/v1/shows", json={**body, "title": "other"}, headers=headers), 422, "idempotency_key_reused"
    )
    without = await client.post("/v1/shows", json=body, headers=auth("ops", "admin"))
    assert without.json()["show_id"] != first.json()["show_id"]
    # and the show reads at once (version 0) before the processor creates it
    assert (await client.get(f"/v1/shows/{first.json()['show_id']}")).status_code == 200


async def test_streams_beyond_the_instance_s_cap_are_503_with_retry_after(app_state):
    _, state = app_state
    capped = Settings.from_env({**key_env(), "BOXOFFICE_SEAT_STREAMS_MAX": "2"})
    state.settings = capped
    transport = httpx.ASGITransport(app=create_app(capped, state=state))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        state.stream_slots.open = 2  # two streams open already
        r = await http.get(f"/v1/shows/{SHOW}/seats/stream")
        error(r, 503, "unavailable")
        assert int(r.headers["retry-after"]) >= 1
        state.stream_slots.open = 1
        r = await http.get(f"/v1/shows/{SHOW}/seats/stream")
        assert r.status_code == 200 and "event: change" in r.text
        assert state.stream_slots.open == 1  # the stream gave its slot back when it ended
        assert (await http.get("/v1/shows/sh_unknown/seats/stream")).status_code == 404
        assert state.stream_slots.open == 1  # a refused stream takes no slot


async def test_headers_beyond_32_kib_are_431_and_no_server_header(client):
    big = {f"x-h{i}": "y" * 4000 for i in range(9)}
    error(await client.get("/v1/shows", headers=big), 431, "request_header_too_large")
    r = await client.get("/v1/shows", headers={"x-h": "y" * 8000})
    assert r.status_code == 200 and "server" not in r.headers


# ---------------------------------------------------------------- sale rules (issue 19)
async def test_a_show_starting_in_the_past_is_refused_with_its_path(client, app_state):
    body = {
        "title": "t",
        "venue": "v",
        "starts_at": "2020-01-01T00:00:00Z",
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}],
    }
    r = await client.post("/v1/shows", json=body, headers=auth("ops", "admin"))
    assert error(r, 422, "validation_error")["details"]["path"] == "$.starts_at"
    assert app_state[1].bus.sent == []


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ({"max_seats_per_customer": 0}, "$.max_seats_per_customer"),
        ({"max_seats_per_customer": 101}, "$.max_seats_per_customer"),
        ({"max_hold_extensions": -1}, "$.max_hold_extensions"),
        ({"max_hold_extensions": 11}, "$.max_hold_extensions"),
    ],
)
async def test_show_rules_are_bounded(client, extra, path):
    body = {
        "title": "t",
        "venue": "v",
        "starts_at": "2099-01-01T00:00:00Z",
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}],
        **extra,
    }
    r = await client.post("/v1/shows", json=body, headers=auth("ops", "admin"))
    assert error(r, 422, "validation_error")["details"]["path"] == path


async def test_show_rules_travel_in_the_command_with_their_defaults(client, app_state):
    body = {
        "title": "t",
        "venue": "v",
        "starts_at": "2099-01-01T00:00:00Z",
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 4, "price_cents": 1, "focus": {"row": 1, "seat": 4}}],
    }
    assert (await client.post("/v1/shows", json=body, headers=auth("ops", "admin"))).status_code == 202
    assert (
        await client.post(
            "/v1/shows",
            json={**body, "max_seats_per_customer": 4, "max_hold_extensions": 0},
            headers=auth("ops", "admin"),
        )
    ).status_code == 202
    first, second = app_state[1].bus.sent
    assert (first.max_seats_per_customer, first.max_hold_extensions) == (10, 2)
    assert (second.max_seats_per_customer, second.max_hold_extensions) == (4, 0)
    assert first.sections[0].focus is not None and first.sections[0].focus.seat == 4
    shown = (await client.get(f"/v1/shows/{second.show_id}")).json()
    assert (shown["max_seats_per_customer"], shown["max_hold_extensions"]) == (4, 0)
    bad_focus = {**body, "sections": [{**body["sections"][0], "focus": {"row": 2, "seat": 1}}]}
    error(await client.post("/v1/shows", json=bad_focus, headers=auth("ops", "admin")), 422, "validation_error")


@pytest.mark.parametrize(
    ("body", "status", "path"),
    [
        ({"quantity": 2, "section": "A"}, 202, None),
        ({"quantity": 2, "price_cents": 100}, 202, None),
        ({"quantity": 2, "section": "Z"}, 422, "$.section"),
        ({"quantity": 2, "price_cents": 5}, 422, "$.price_cents"),
        ({"quantity": 2, "section": "A", "price_cents": 5}, 422, "$.price_cents"),
        ({"seats": ["A-1-1"], "section": "A"}, 422, "$"),
    ],
)
async def test_best_available_in_a_section_or_at_a_price(client, app_state, body, status, path):
    r = await client.post(f"/v1/shows/{SHOW}/bookings", json=body, headers=booking_headers())
    if status == 202:
        assert r.status_code == 202, r.text
        (command,) = app_state[1].bus.sent
        assert (command.section, command.price_cents) == (body.get("section"), body.get("price_cents"))
    else:
        assert error(r, 422, "validation_error")["details"]["path"] == path
        assert app_state[1].bus.sent == []


async def test_extend_is_the_owner_s_and_travels_as_a_command(client, app_state):
    r = await client.post("/v1/bookings/bk_alice/extend", headers=auth())
    assert r.status_code == 202, r.text
    (command,) = app_state[1].bus.sent
    assert (command.type, command.booking_id, command.customer_id) == ("ExtendBooking", "bk_alice", "alice")
    error(await client.post("/v1/bookings/bk_alice/extend", headers=auth("mallory")), 404, "not_found")
    error(await client.post("/v1/bookings/bk_alice/extend", json={"x": 1}, headers=auth()), 422, "validation_error")


async def test_started_shows_leave_the_listing_unless_asked_for(client, app_state):
    reads = app_state[1].reads
    past = datetime(2020, 1, 1, tzinfo=UTC)
    reads.shows["sh_past"] = ShowView("sh_past", "old", "v", past, 120, [Section("A", 1, 1, 1)], 1, 1)
    listed = {s["show_id"] for s in (await client.get("/v1/shows")).json()["shows"]}
    assert SHOW in listed and "sh_past" not in listed
    everything = {s["show_id"] for s in (await client.get("/v1/shows?include_past=true")).json()["shows"]}
    assert {SHOW, "sh_past"} <= everything
    error(await client.get("/v1/shows?include_past=1"), 422, "validation_error")


# ---------------------------------------------------------------- money (issue 20)
_PRICED = {
    "title": "t",
    "venue": "v",
    "starts_at": "2099-01-01T00:00:00Z",
    "sections": [{"name": "A", "rows": 1, "seats_per_row": 4, "price_cents": 1250}],
}


@pytest.mark.parametrize("currency", ["eur", "EURO", "EUD", "XXX", "", 978, None])
async def test_a_currency_outside_the_allow_list_is_422_naming_its_path(client, app_state, currency):
    r = await client.post("/v1/shows", json={**_PRICED, "currency": currency}, headers=auth("ops", "admin"))
    assert error(r, 422, "validation_error")["details"]["path"] == "$.currency"
    assert app_state[1].bus.sent == []


async def test_the_currency_travels_in_the_command_and_reads_back_eur_by_default(client, app_state):
    for body in (_PRICED, {**_PRICED, "currency": "JPY"}):
        assert (await client.post("/v1/shows", json=body, headers=auth("ops", "admin"))).status_code == 202
    first, second = app_state[1].bus.sent
    assert (first.currency, second.currency) == ("EUR", "JPY")
    shown = (await client.get(f"/v1/shows/{second.show_id}")).json()
    assert shown["currency"] == "JPY"
    assert (await client.get(f"/v1/shows/{SHOW}")).json()["currency"] == "EUR"


async def test_a_booking_shows_its_total_once_it_has_seats_and_not_while_received(client, app_state):
    state = app_state[1]
    state.reads.bookings["bk_priced"] = BookingView(
        "bk_priced", SHOW, "alice", "PENDING", ["A-1-1", "A-1-2"], None, T0, T0, T0, total=200, currency="EUR"
    )
    body = (await client.get("/v1/bookings/bk_priced", headers=auth())).json()
    assert (body["total"], body["currency"]) == (200, "EUR")
    r = await client.post(f"/v1/shows/{SHOW}/bookings", json={"quantity": 1}, headers=booking_headers("money"))
    received = (await client.get(r.headers["Location"], headers=auth())).json()
    assert received["status"] == "RECEIVED" and "total" not in received and "currency" not in received


async def test_every_field_of_a_show_body_travels_in_its_command_and_reads_at_once(client, app_state):
    """Each field the admin sets reaches the processor (the command) and the show read before it is decided."""
    from schemas.api import CreateShowBody

    body = {
        "title": "Every field",
        "venue": "Hall",
        "starts_at": "2099-03-01T20:00:00Z",
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 700}],
        "hold_seconds": 90,
        "max_seats_per_customer": 4,
        "max_hold_extensions": 1,
        "currency": "GBP",
        "sale_opens_at": "2099-02-01T10:00:00Z",
        "sale_closes_at": "2099-03-01T18:00:00Z",
        "fair_start_window_s": 30,
        "waitlist_offer_seconds": 45,
        "cancellable_until_hours": 48,
        "refund_percent": 80,
    }
    assert set(body) == set(CreateShowBody.__struct_fields__)  # a new field must be added here
    r = await client.post("/v1/shows", json=body, headers=auth("ops", "admin"))
    assert r.status_code == 202, r.text
    (command,) = app_state[1].bus.sent
    shown = app_state[1].reads.shows[r.json()["show_id"]]
    decoded = msgspec.json.decode(msgspec.json.encode(body), type=CreateShowBody)
    for name in CreateShowBody.__struct_fields__:
        assert getattr(command, name) == getattr(decoded, name), name
        assert getattr(shown, name) == getattr(decoded, name), name
    assert command.fair_start_seed is not None and len(command.fair_start_seed) == 32


async def test_the_booking_post_s_fast_path_answers_as_the_router_does(app_state, monkeypatch):
    """intake.app.FastPath serves the booking POST past the router: the same requests through both, on two
    intakes of the same state, get the same status, headers and body (every other test of the booking POST
    goes through the fast path)."""
    import intake.app

    requests = [
        ({"seats": ["A-1-1"]}, booking_headers("fp1")),
        ({"seats": ["A-1-1"]}, booking_headers("fp1")),  # the same again: 200
        ({"seats": ["Z-9-9"]}, booking_headers("fp2")),  # outside the layout: 422
        ({"quantity": 1}, {"Idempotency-Key": "fp3", "Content-Type": "application/json"}),  # no token: 401
        ({"quantity": 1}, booking_headers("fp4")),
    ]

    async def answers(path: str) -> list[tuple[int, dict, bytes]]:
        app_settings, _ = app_state
        state = fake_state(app_settings)
        state.reads.shows[SHOW] = ShowView(SHOW, "t", "v", T0, 120, [Section("A", 2, 3, 100)], 6, 6)
        transport = httpx.ASGITransport(app=create_app(app_settings, state=state))
        out = []
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
            for body, headers in [*requests, ({"quantity": 1}, booking_headers("fp5"))]:
                r = await http.post(path, json=body, headers=headers)
                kept = {k: v for k, v in r.headers.items() if k not in ("content-length", "date")}
                out.append((r.status_code, kept, r.content))
        return out

    fast = await answers(f"/v1/shows/{SHOW}/bookings")
    assert [status for status, _, _ in fast] == [202, 200, 422, 401, 202, 202]
    real_call = intake.app.FastPath.__call__

    async def router_only(self, scope, receive, send):
        await self.app(scope, receive, send)

    monkeypatch.setattr(intake.app.FastPath, "__call__", router_only)
    assert await answers(f"/v1/shows/{SHOW}/bookings") == fast
    monkeypatch.setattr(intake.app.FastPath, "__call__", real_call)
    unknown = await answers("/v1/shows/sh_nowhere/bookings")
    assert unknown[0][0] == 404  # no such show, through the fast path
