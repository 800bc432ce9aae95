"""Bad input: each the documented 4xx with a JSON error body, never a 5xx."""

from __future__ import annotations

import base64
import json
import time
import unicodedata

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from intake.tokens import mint
from tests.support import ids
from tests.support.keys import good_claims, hs256_with, sign
from tests.support.waiting import eventually


def _error(r, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]
    return r.json()["error"]


@pytest.fixture(scope="module")
async def show_id(api):
    return await api.create_show([{"name": "A", "rows": 2, "seats_per_row": 2, "price_cents": 1}])


def _headers(api, customer="bad-input"):
    return {**api.auth(customer), "Idempotency-Key": ids.key(), "Content-Type": "application/json"}


async def test_malformed_json(api, show_id):
    r = await api.http.post(f"/v1/shows/{show_id}/bookings", content=b'{"quantity": ', headers=_headers(api))
    _error(r, 400, "malformed_json")


@pytest.mark.parametrize(
    "body",
    [
        b'{"quantity": "2"}',
        b'{"quantity": 0}',
        b'{"quantity": 11}',
        b'{"quantity": true}',
        b'{"seats": "A-1-1"}',
        b'{"seats": []}',
        b'{"seats": [1]}',
        b'{"seats": ["A-1-1", "A-1-1"]}',
        b'{"quantity": 1, "seats": ["A-1-1"]}',
        b"{}",
        b"[]",
        b'{"quantity": 1, "extra": 1}',
        b"null",
    ],
)
async def test_wrong_shapes_are_validation_errors(api, show_id, body):
    r = await api.http.post(f"/v1/shows/{show_id}/bookings", content=body, headers=_headers(api))
    _error(r, 422, "validation_error")


async def test_oversize_body(api, show_id):
    body = b'{"seats": ["' + b"A" * 20_000 + b'"]}'
    r = await api.http.post(f"/v1/shows/{show_id}/bookings", content=body, headers=_headers(api))
    _error(r, 413, "payload_too_large")


async def test_wrong_content_type(api, show_id):
    headers = {**_headers(api), "Content-Type": "text/plain"}
    r = await api.http.post(f"/v1/shows/{show_id}/bookings", content=b'{"quantity": 1}', headers=headers)
    _error(r, 415, "unsupported_media_type")


async def test_missing_or_bad_idempotency_key(api, show_id):
    headers = _headers(api)
    del headers["Idempotency-Key"]
    r = await api.http.post(f"/v1/shows/{show_id}/bookings", json={"quantity": 1}, headers=headers)
    _error(r, 422, "validation_error")
    r = await api.http.post(
        f"/v1/shows/{show_id}/bookings", json={"quantity": 1}, headers={**headers, "Idempotency-Key": "x" * 129}
    )
    _error(r, 422, "validation_error")


async def test_tokens(api, show_id):
    url = f"/v1/shows/{show_id}/bookings"
    r = await api.http.post(url, json={"quantity": 1}, headers={"Idempotency-Key": "k"})
    _error(r, 401, "unauthorized")
    r = await api.http.post(
        url, json={"quantity": 1}, headers={"Idempotency-Key": "k", "Authorization": "Bearer not-a-jwt"}
    )
    _error(r, 401, "unauthorized")
    now, signer = int(time.time()), api.signer
    public_pem = signer.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    refused = {
        "expired": mint(signer, "x", ttl=60, now=now - 61),
        "forged": sign(good_claims(signer, now, role="admin"), Ed25519PrivateKey.generate(), signer.kid),
        "alg confusion": hs256_with(public_pem, good_claims(signer, now, role="admin"), signer.kid),
        "exp a string": sign(good_claims(signer, now, exp=str(now + 60)), signer.key, signer.kid),
        "another audience": sign(good_claims(signer, now, aud="elsewhere"), signer.key, signer.kid),
        "over 24 h": mint(signer, "x", ttl=86_401, now=now),
    }
    for why, token in refused.items():
        r = await api.http.post(
            url, json={"quantity": 1}, headers={"Idempotency-Key": "k", "Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 401, (why, r.text)
        _error(r, 401, "unauthorized")


async def test_dev_sign_in_gives_customers_only(api, show_id):
    """The e2e intakes run with dev sign-in on, as the local stack does: a customer token of the dev issuer,
    never an admin one."""
    r = await api.http.post("/v1/dev/token", json={"sub": ids.customer(), "role": "admin"})
    _error(r, 422, "validation_error")
    assert r.json()["error"]["details"]["path"] == "$.role"
    r = await api.http.post("/v1/dev/token", json={"sub": ids.customer()})
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    assert (await api.http.get("/v1/me/bookings", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    body = {
        "title": "t",
        "venue": "v",
        "starts_at": "2027-01-01T00:00:00Z",
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}],
    }
    r = await api.http.post("/v1/shows", json=body, headers={"Authorization": f"Bearer {token}"})
    _error(r, 403, "forbidden")


async def test_customer_cannot_create_shows(api):
    r = await api.http.post("/v1/shows", json={"title": "t"}, headers=api.auth("someone"))
    _error(r, 403, "forbidden")
    r = await api.http.post("/v1/shows", json={"title": "t"})
    _error(r, 401, "unauthorized")


async def test_invalid_show_bodies(api):
    admin = api.auth("admin", "admin")
    good = {
        "title": "t",
        "venue": "v",
        "starts_at": "2099-01-01T20:00:00Z",
        "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}],
    }
    for bad in [
        {**good, "starts_at": "tomorrow"},
        {**good, "starts_at": "2027-01-01T20:00:00"},
        {**good, "hold_seconds": 5},
        {**good, "sections": []},
        {**good, "sections": [{"name": "A-1", "rows": 1, "seats_per_row": 1, "price_cents": 1}]},
        {**good, "sections": [{"name": "A", "rows": 201, "seats_per_row": 1, "price_cents": 1}]},
        {**good, "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}] * 2},
        {
            **good,
            "sections": [{"name": f"S{i}", "rows": 200, "seats_per_row": 200, "price_cents": 1} for i in range(3)],
        },
        {**good, "unknown": 1},
    ]:
        r = await api.http.post("/v1/shows", json=bad, headers=admin)
        _error(r, 422, "validation_error")


async def test_other_customers_booking_is_not_found(api, show_id):
    owner = ids.customer("owner")
    booking_id = (await api.book(owner, show_id, quantity=1)).json()["booking_id"]
    await api.wait_status(owner, booking_id)
    r = await api.http.get(f"/v1/bookings/{booking_id}", headers=api.auth(ids.customer("snoop")))
    _error(r, 404, "not_found")
    r = await api.http.post(f"/v1/bookings/{booking_id}/cancel", headers=api.auth(ids.customer("snoop")))
    _error(r, 404, "not_found")
    r = await api.http.get(f"/v1/bookings/{booking_id}", headers=api.auth("ops", "admin"))
    assert r.status_code == 200


async def test_unknown_route_and_method(api):
    _error(await api.http.get("/v1/nothing-here"), 404, "not_found")
    _error(await api.http.delete("/v1/shows"), 405, "method_not_allowed")


async def test_bad_paging(api):
    _error(await api.http.get("/v1/shows?limit=0"), 422, "validation_error")
    _error(await api.http.get("/v1/shows?limit=abc"), 422, "validation_error")
    _error(await api.http.get("/v1/shows?cursor=%%%"), 422, "validation_error")
    # History cursors are base64 JSON: well-formed ones the API never issued are refused, not passed on.
    customer = api.auth(ids.customer("pager"))
    for made_up in (
        ["0001-01-01T00:00:00+14:00", "bk_" + "a" * 26],  # before year 1 once in UTC
        ["9999-12-31T23:59:59-14:00", "bk_" + "a" * 26],  # after year 9999 once in UTC
        ["2026-01-01T00:00:00", "bk_" + "a" * 26],  # no offset
        ["2026-01-01T00:00:00Z", "not a booking id"],
    ):
        cursor = base64.urlsafe_b64encode(json.dumps(made_up).encode()).decode().rstrip("=")
        _error(await api.http.get(f"/v1/me/bookings?cursor={cursor}", headers=customer), 422, "validation_error")


async def test_operations_endpoints(api, system):
    assert (await api.http.get("/healthz")).status_code == 200
    assert (await api.http.get("/readyz")).json()["checks"] == {"kafka": True, "redis": True}
    # Metrics come from each instance's own port; the public port does not serve them (NGINX: 404).
    metrics = await api.http.get(f"{system.intake.url}/metrics")
    assert "boxoffice_http_requests_total" in metrics.text
    assert (await api.http.get("/metrics")).status_code == 404
    doc = (await api.http.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    for path in [
        "/v1/shows",
        "/v1/shows/{show_id}",
        "/v1/shows/{show_id}/seats",
        "/v1/shows/{show_id}/bookings",
        "/v1/bookings/{booking_id}",
        "/v1/bookings/{booking_id}/confirm",
        "/v1/bookings/{booking_id}/cancel",
        "/v1/me/bookings",
        "/healthz",
        "/readyz",
        "/metrics",
    ]:
        assert path in doc["paths"]


async def test_every_worker_serves_health_readiness_and_its_own_metrics(api, system, show_id):
    customer = ids.customer("metrics")
    await api.wait_status(customer, (await api.book(customer, show_id, quantity=1)).json()["booking_id"])
    own = {
        "booking_processor": "boxoffice_processor_commands_total",
        "outbox_relay": "boxoffice_relay_published_total",
        "projections": "boxoffice_projection_events_total",
        "expiry": "process_cpu_seconds_total",
    }
    for service in (system.processor, system.relay, system.projections, system.expiry):
        assert (await api.http.get(f"{service.url}/healthz")).status_code == 200, service.name
        assert (await api.http.get(f"{service.url}/readyz")).status_code == 200, service.name
        metrics = await api.http.get(f"{service.url}/metrics")
        assert metrics.status_code == 200, (service.name, metrics.text[:200])
        assert metrics.headers["content-type"].startswith("text/plain"), service.name
        assert own[service.name] in metrics.text, service.name


async def test_rate_limited_writes_get_429_with_retry_after(api, system, show_id):
    from tests.support.processes import Service

    # One write per 20 s after a burst of 2: the third is refused however slowly the first two are answered.
    intake = Service(
        "intake-rate-limited",
        "intake",
        {"BOXOFFICE_RATE_LIMIT_PER_S": "0.05", "BOXOFFICE_RATE_LIMIT_BURST": "2"},
        system.log_dir,
    ).start()
    try:
        async with httpx.AsyncClient(base_url=intake.url, timeout=30) as http:
            customer = ids.customer("eager")
            statuses = []
            for _ in range(3):
                r = await http.post(
                    f"/v1/shows/{show_id}/bookings", json={"quantity": 1}, headers=_headers(api, customer)
                )
                statuses.append(r.status_code)
            assert statuses[:2] == [202, 202]
            _error(r, 429, "rate_limited")
            assert int(r.headers["retry-after"]) >= 1
            other = await http.post(
                f"/v1/shows/{show_id}/bookings", json={"quantity": 1}, headers=_headers(api, ids.customer("patient"))
            )
            assert other.status_code == 202  # limits are per customer
    finally:
        intake.stop()


# Inputs that used to answer 500, or 202 and then never a decision (found from outside with a fuzzer).
ODD_SEATS = ["A-\u00b9-1", "A-1-\u00b2", "A-\u0661-1", "A-\uff11-1", "A-1-1\u0000", "A-1-1\n", "A-01-1", "A-1-1 "]
ODD_LIMITS = ["\u00b9", "\u0665", "9" * 4000, "1e2", " 5"]
# Show titles and venues: bidirectional controls (a title that reads backwards, or hides a part of itself),
# zero-width characters, nothing but spaces.
SHOW_TEXT_REFUSED = [
    "\u202etxet",
    "a\u2066b\u2069",
    "\u200eleft",
    "\u061cx",
    "zero\u200bwidth",
    "\ufeffbom",
    "w\u2060j",
    "   ",
    "\u3000",
]
ODD_TIMES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-00:01", "0001-01-01T00:00:00.000+14:00"]


async def test_odd_input_is_refused_with_a_4xx_never_accepted_and_lost(api, show_id, pg):
    customer = ids.customer("odd")
    for seat in ODD_SEATS:  # none of them is a seat id of the contract: refused at the door, never accepted
        r = await api.http.post(
            f"/v1/shows/{show_id}/bookings", json={"seats": [seat]}, headers=_headers(api, customer)
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", (seat, r.text)
    for limit in ODD_LIMITS:
        for path, headers in (("/v1/shows", {}), ("/v1/me/bookings", api.auth(customer))):
            _error(await api.http.get(path, params={"limit": limit}, headers=headers), 422, "validation_error")
    admin = api.auth("admin", "admin")
    body = {"title": "t", "venue": "v", "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}]}
    for starts_at in ODD_TIMES:
        _error(
            await api.http.post("/v1/shows", json={**body, "starts_at": starts_at}, headers=admin),
            422,
            "validation_error",
        )
    for text in ("a\x00b", "bell\x07", "c1\x9c", *SHOW_TEXT_REFUSED):
        for field in ("title", "venue"):
            r = await api.http.post(
                "/v1/shows", json={**body, field: text, "starts_at": "2099-01-01T00:00:00Z"}, headers=admin
            )
            assert _error(r, 422, "validation_error")["details"]["path"] == f"$.{field}", (field, text)
    booking_id = (await api.book(customer, show_id, quantity=1)).json()["booking_id"]
    await api.wait_status(customer, booking_id)
    r = await api.http.post(
        f"/v1/bookings/{booking_id}/confirm", json={"payment_reference": "ref\x00"}, headers=api.auth(customer)
    )
    _error(r, 422, "validation_error")


async def test_every_accepted_request_reaches_a_decision(api):
    """Unusual but valid input is accepted and decided: every 202 booking ends decided, every 202 show exists."""
    admin = api.auth("admin", "admin")
    shows = []
    for title, starts_at in [
        ("\u00c9t\u00e9 \u2014 \U0001f3ad", "2999-12-31T23:00:00-01:00"),
        ("x" * 200, "9999-12-31T23:59:59Z"),
        ("  Cafe\u0301  ", "2099-06-01T12:00:00-11:30"),  # stored NFC-normalised and trimmed: "Café"
    ]:
        r = await api.http.post(
            "/v1/shows",
            headers=admin,
            json={
                "title": title,
                "venue": "\u00fcber",
                "starts_at": starts_at,
                "hold_seconds": 3600,
                "sections": [{"name": "Z9", "rows": 200, "seats_per_row": 1, "price_cents": 1_000_000_000}],
                "max_seats_per_customer": 100,  # one customer books 15 seats below
            },
        )
        assert r.status_code == 202, r.text
        shows.append((r.json()["show_id"], unicodedata.normalize("NFC", title).strip()))
    for show_id, title in shows:
        show = await eventually(
            lambda s=show_id: api.http.get(f"/v1/shows/{s}"), lambda r: r.status_code == 200, what="the show created"
        )
        assert show.json()["title"] == title
    show_id = shows[0][0]
    customer = ids.customer("edge")
    bodies = [
        {"seats": ["Z9-200-1"]},
        {"seats": ["Z9-1-1", "Z9-2-1", "Z9-3-1"]},
        {"quantity": 10},
        {"quantity": 1},
        {"seats": ["Z9-200-1"]},
    ]
    keys = ["k", "~" * 128, "a b", "k!\"#$%&'()*+,-./", "last"]
    booking_ids = []
    for body, key in zip(bodies, keys, strict=True):
        r = await api.http.post(
            f"/v1/shows/{show_id}/bookings", json=body, headers={**api.auth(customer), "Idempotency-Key": key}
        )
        assert r.status_code == 202, r.text
        booking_ids.append(r.json()["booking_id"])
    decided = [await api.wait_status(customer, b) for b in booking_ids]
    assert [d["status"] for d in decided] == ["PENDING", "PENDING", "PENDING", "PENDING", "REJECTED"]
    assert decided[-1]["reason"] == "seat_unavailable"
