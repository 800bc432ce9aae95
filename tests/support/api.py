"""A small client of the public API for end-to-end tests."""

from __future__ import annotations

from typing import Any

import httpx

from intake.tokens import Signer, mint
from tests.support import ids
from tests.support.waiting import eventually

DECIDED = {"PENDING", "REJECTED", "CONFIRMED", "EXPIRED", "CANCELLED"}


class Api:
    def __init__(self, base_url: str, signer: Signer) -> None:
        """`signer`: what `boxoffice token` signs with (tests.support.keys.session_signer)."""
        self.base_url = base_url
        self.signer = signer
        self.http = httpx.AsyncClient(
            base_url=base_url, timeout=30, limits=httpx.Limits(max_connections=200, max_keepalive_connections=200)
        )

    async def close(self) -> None:
        await self.http.aclose()

    def token(self, sub: str, role: str = "customer", **kw: Any) -> str:
        return mint(self.signer, sub, role, **kw)

    def auth(self, sub: str, role: str = "customer", **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, role, **kw)}"}

    async def create_show(
        self,
        sections: list[dict] | None = None,
        hold_seconds: int = 120,
        title: str = "Test show",
        starts_at: str = "2099-01-01T20:00:00Z",
        **rules: Any,
    ) -> str:
        """A show, created and projected; `rules`: more fields of the body (max_seats_per_customer, …)."""
        body = {
            "title": title,
            "venue": "Test venue",
            "starts_at": starts_at,
            "hold_seconds": hold_seconds,
            "sections": sections or [{"name": "A", "rows": 10, "seats_per_row": 10, "price_cents": 5000}],
            **rules,
        }
        r = await self.http.post("/v1/shows", json=body, headers=self.auth("admin-1", "admin"))
        assert r.status_code == 202, r.text
        show_id = r.json()["show_id"]
        # The show reads at once (version 0); wait for its creation to be decided and projected (version 1).
        await eventually(
            lambda: self.http.get(f"/v1/shows/{show_id}/seats"),
            lambda r: r.status_code == 200 and r.json()["version"] >= 1,
            what=f"show {show_id} created",
        )
        return show_id

    async def book(
        self,
        customer: str,
        show_id: str,
        *,
        seats: list[str] | None = None,
        quantity: int | None = None,
        key: str | None = None,
        retry_unavailable: bool = False,
        **kw: Any,
    ) -> httpx.Response:
        """Request seats; extra keywords (email, phone) go into the customer's token. With `retry_unavailable`,
        as API.md asks a client to: a network error or a 502/503 (no instance free right now, e.g. for NGINX's
        fail_timeout after a restart) is retried with the same Idempotency-Key for up to 30 s. Off by default:
        most tests must see every 503."""
        body: dict[str, Any] = {"seats": seats} if seats is not None else {"quantity": quantity}
        headers = {**self.auth(customer, **kw), "Idempotency-Key": key or ids.key()}

        async def post() -> httpx.Response | None:
            try:
                return await self.http.post(f"/v1/shows/{show_id}/bookings", json=body, headers=headers)
            except httpx.TransportError:
                if not retry_unavailable:
                    raise
                return None

        if not retry_unavailable:
            return await post()
        return await eventually(
            post,
            lambda r: r is not None and r.status_code not in (502, 503),
            timeout=30,
            interval=0.2,
            what="an answer other than 502/503",
        )

    async def booking(self, customer: str, booking_id: str) -> httpx.Response:
        return await self.http.get(f"/v1/bookings/{booking_id}", headers=self.auth(customer))

    async def wait_status(
        self, customer: str, booking_id: str, statuses: set[str] | None = None, timeout: float = 30
    ) -> dict[str, Any]:
        statuses = statuses or DECIDED
        r = await eventually(
            lambda: self.booking(customer, booking_id),
            lambda r: r.status_code == 200 and r.json()["status"] in statuses,
            timeout=timeout,
            what=f"booking {booking_id} in {sorted(statuses)}",
        )
        return r.json()

    async def seat_map(self, show_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/v1/shows/{show_id}/seats")
        assert r.status_code == 200, r.text
        return r.json()
