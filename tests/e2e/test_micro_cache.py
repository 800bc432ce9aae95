"""The micro-cache in front of the real intakes (docs/DESIGN-NOTES.md, "The micro-cache"): a client other than
the tests' own 127.0.0.1 (which the System lists as uncached) reads the anonymous documents through it, never
more than ~2 s behind, and never a token's."""

from __future__ import annotations

import httpx

from tests.support import ids
from tests.support.waiting import eventually

READER = "127.0.0.3"


async def test_anonymous_reads_are_cached_briefly_and_token_reads_never(api, system):
    show_id = await api.create_show([{"name": "A", "rows": 1, "seats_per_row": 4, "price_cents": 1}])
    transport = httpx.AsyncHTTPTransport(local_address=READER)
    async with httpx.AsyncClient(base_url=system.front_door.url, timeout=10, transport=transport) as reader:
        for path in (f"/v1/shows/{show_id}", f"/v1/shows/{show_id}/seats", "/v1/shows?limit=5"):
            first, second = await reader.get(path), await reader.get(path)
            assert first.status_code == second.status_code == 200, path
            assert second.headers["x-cache-status"] == "HIT" and second.json() == first.json(), path
            if "etag" in first.headers:  # the intake's ETag: NGINX answers If-None-Match from the cache
                again = await reader.get(path, headers={"If-None-Match": first.headers["etag"]})
                assert again.status_code == 304, path

        customer = ids.customer("cached")
        booking_id = (await api.book(customer, show_id, quantity=1)).json()["booking_id"]
        await api.wait_status(customer, booking_id)
        # The cached map catches up within its lifetime (1 s as NGINX counts it: at most ~2 s).
        seen = await eventually(
            lambda: reader.get(f"/v1/shows/{show_id}/seats"),
            lambda r: r.status_code == 200 and r.json()["seats_available"] == 3,
            timeout=5,
            interval=0.2,
            what="the cached seat map showing the hold",
        )
        assert seen.headers["x-cache-status"] in ("MISS", "HIT", "STALE", "EXPIRED", "REVALIDATED", "UPDATING")

        token = await reader.get(f"/v1/shows/{show_id}", headers=api.auth(customer))
        assert token.headers["x-cache-status"] == "BYPASS"
        mine = await reader.get(f"/v1/bookings/{booking_id}", headers=api.auth(customer))
        assert mine.status_code == 200 and "x-cache-status" not in mine.headers
