"""Bad input: each the documented 4xx with a JSON error body, never a 5xx."""
from __future__ import annotations

import time

import httpx
import jwt
import pytest

from tests.support import ids


def _error(r, status: int, code: str) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]


@pytest.fixture(scope="module")
async def show_id(api):
    return await api.create_show([{"name": "A", "rows": 2, "seats_per_row": 2, "price_cents": 1}])


def _headers(api, customer="bad-input"):
    return {**api.auth(customer), "Idempotency-Key": ids.key(), "Content-Type": "application/json"}


async def test_malformed_json(api, show_id):
    r = await api.http.post(f"/v1/shows/{show_id}/bookings", content=b'{"quantity": ', headers=_headers(api))
    _error(r, 400, "malformed_json")


@pytest.mark.parametrize("body", [
    b'{"quantity": "2"}', b'{"quantity": 0}', b'{"quantity": 11}', b'{"quantity": true}',
    b'{"seats": "A-1-1"}', b'{"seats": []}', b'{"seats": [1]}', b'{"seats": ["A-1-1", "A-1-1"]}',
    b'{"quantity": 1, "seats": ["A-1-1"]}', b'{}', b'[]', b'{"quantity": 1, "extra": 1}', b'null',
])
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
    r = await api.http.post(f"/v1/shows/{show_id}/bookings", json={"quantity": 1},
                            headers={**headers, "Idempotency-Key": "x" * 129})
    _error(r, 422, "validation_error")


async def test_tokens(api, show_id):
    url = f"/v1/shows/{show_id}/bookings"
    r = await api.http.post(url, json={"quantity": 1}, headers={"Idempotency-Key": "k"})
    _error(r, 401, "unauthorized")
    r = await api.http.post(url, json={"quantity": 1}, headers={"Idempotency-Key": "k",
                                                                "Authorization": "Bearer not-a-jwt"})
    _error(r, 401, "unauthorized")
    expired = jwt.encode({"sub": "x", "role": "customer", "exp": int(time.time()) - 10}, api.secret, "HS256")
    r = await api.http.post(url, json={"quantity": 1}, headers={"Idempotency-Key": "k",
                                                                "Authorization": f"Bearer {expired}"})
    _error(r, 401, "unauthorized")
    forged = jwt.encode({"sub": "x", "role": "admin", "exp": int(time.time()) + 60},
                        "not-the-secret-but-long-enough-for-hs256", "HS256")
    r = await api.http.post(url, json={"quantity": 1}, headers={"Idempotency-Key": "k",
                                                                "Authorization": f"Bearer {forged}"})
    _error(r, 401, "unauthorized")


async def test_customer_cannot_create_shows(api):
    r = await api.http.post("/v1/shows", json={"title": "t"}, headers=api.auth("someone"))
    _error(r, 403, "forbidden")
    r = await api.http.post("/v1/shows", json={"title": "t"})
    _error(r, 401, "unauthorized")


async def test_invalid_show_bodies(api):
    admin = api.auth("admin", "admin")
    good = {"title": "t", "venue": "v", "starts_at": "2027-01-01T20:00:00Z",
            "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}]}
    for bad in [
        {**good, "starts_at": "tomorrow"}, {**good, "starts_at": "2027-01-01T20:00:00"},
        {**good, "hold_seconds": 5}, {**good, "sections": []},
        {**good, "sections": [{"name": "A-1", "rows": 1, "seats_per_row": 1, "price_cents": 1}]},
        {**good, "sections": [{"name": "A", "rows": 201, "seats_per_row": 1, "price_cents": 1}]},
        {**good, "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "price_cents": 1}] * 2},
        {**good, "sections": [{"name": f"S{i}", "rows": 200, "seats_per_row": 200, "price_cents": 1}
                              for i in range(3)]},
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


async def test_operations_endpoints(api):
    assert (await api.http.get("/healthz")).status_code == 200
    assert (await api.http.get("/readyz")).json()["checks"] == {"kafka": True, "redis": True}
    metrics = await api.http.get("/metrics")
    assert "boxoffice_http_requests_total" in metrics.text
    doc = (await api.http.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    for path in ["/v1/shows", "/v1/shows/{show_id}", "/v1/shows/{show_id}/seats", "/v1/shows/{show_id}/bookings",
                 "/v1/bookings/{booking_id}", "/v1/bookings/{booking_id}/confirm",
                 "/v1/bookings/{booking_id}/cancel", "/v1/me/bookings", "/healthz", "/readyz", "/metrics"]:
        assert path in doc["paths"]


async def test_rate_limited_writes_get_429_with_retry_after(api, system, show_id):
    from tests.support.processes import Service

    intake = Service("intake-rate-limited", "intake", {"BOXOFFICE_RATE_LIMIT_PER_S": "1",
                                                        "BOXOFFICE_RATE_LIMIT_BURST": "2"}, system.log_dir).start()
    try:
        async with httpx.AsyncClient(base_url=intake.url, timeout=30) as http:
            customer = ids.customer("eager")
            statuses = []
            for _ in range(3):
                r = await http.post(f"/v1/shows/{show_id}/bookings", json={"quantity": 1},
                                    headers=_headers(api, customer))
                statuses.append(r.status_code)
            assert statuses[:2] == [202, 202]
            _error(r, 429, "rate_limited")
            assert int(r.headers["retry-after"]) >= 1
            other = await http.post(f"/v1/shows/{show_id}/bookings", json={"quantity": 1},
                                    headers=_headers(api, ids.customer("patient")))
            assert other.status_code == 202  # limits are per customer
    finally:
        intake.stop()
