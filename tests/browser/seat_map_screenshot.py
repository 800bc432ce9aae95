"""The seat-map picture of the README (docs/seat-map.png), taken against a running stack (`make up`):

    .venv/bin/python -m tests.browser.seat_map_screenshot [BASE_URL] [OUT]   (http://127.0.0.1:8000, docs/seat-map.png)

It creates a show through the API (an admin token of the stack's key, as `boxoffice token` mints it), lets a
few people hold and book seats (development sign-in: the local stack has it on), then signs Alice in through
the UI with a hold of her own and photographs her page.
"""

from __future__ import annotations

import random
import sys
import time
import uuid

import httpx
from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

SECTIONS = [
    {"name": "Stalls", "rows": 10, "seats_per_row": 22, "price_cents": 6500},
    {"name": "Circle", "rows": 6, "seats_per_row": 18, "price_cents": 4500},
]


def token(http: httpx.Client, sub: str) -> dict[str, str]:
    r = http.post("/v1/dev/token", json={"sub": sub})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def admin_token(sub: str) -> dict[str, str]:
    from intake.credentials import signer
    from intake.tokens import mint
    from runtime.settings import Settings

    return {"Authorization": f"Bearer {mint(signer(Settings.from_env()), sub, 'admin')}"}


def book(http: httpx.Client, sub: str, show_id: str, seats: list[str]) -> str:
    r = http.post(
        f"/v1/shows/{show_id}/bookings",
        json={"seats": seats},
        headers={**token(http, sub), "Idempotency-Key": uuid.uuid4().hex},
    )
    r.raise_for_status()
    booking_id = r.json()["booking_id"]
    for _ in range(100):
        if http.get(f"/v1/bookings/{booking_id}", headers=token(http, sub)).json()["status"] != "RECEIVED":
            return booking_id
        time.sleep(0.1)
    raise RuntimeError(f"booking {booking_id} not decided")


def main(base_url: str, out: str) -> None:
    rng = random.Random(7)
    with httpx.Client(base_url=base_url, timeout=30) as http:
        body = {
            "title": "Hamlet",
            "venue": "The Globe",
            "starts_at": "2099-12-19T19:30:00Z",
            "hold_seconds": 600,
            "sections": SECTIONS,
        }
        show_id = http.post("/v1/shows", json=body, headers=admin_token("ops")).json()["show_id"]
        for _ in range(50):
            if http.get(f"/v1/shows/{show_id}/seats").json()["version"] >= 1:
                break
            time.sleep(0.1)
        taken: set[str] = {"Stalls-5-11", "Stalls-5-12"}  # Alice's, below
        for n in range(34):
            section = rng.choice(SECTIONS)
            row, first = rng.randint(1, section["rows"]), rng.randint(1, section["seats_per_row"] - 3)
            seats = [f"{section['name']}-{row}-{first + i}" for i in range(rng.randint(1, 4))]
            if taken & set(seats):
                continue
            taken |= set(seats)
            booking_id = book(http, f"fan{n}", show_id, seats)
            if n % 3:  # two in three pay; the others are holding
                http.post(
                    f"/v1/bookings/{booking_id}/confirm",
                    json={"payment_reference": f"p{n}"},
                    headers=token(http, f"fan{n}"),
                )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=base_url, viewport={"width": 1280, "height": 800})
        page.goto("/signin")
        page.get_by_label("Name").fill("alice")
        page.get_by_test_id("signin-submit").click()
        expect(page.get_by_test_id("signed-in-as")).to_have_attribute("data-sub", "alice")
        page.goto(f"/shows/{show_id}")
        expect(page.get_by_test_id("live-status")).to_have_attribute("data-status", "live")
        for seat in ("Stalls-5-11", "Stalls-5-12"):
            page.locator(f'[data-seat-id="{seat}"]').click()
        page.get_by_test_id("book-button").click()
        expect(page.get_by_test_id("booking-status")).to_have_attribute("data-status", "PENDING")
        page.wait_for_timeout(1500)  # the last confirmations on the map, a tick of the countdown
        page.screenshot(path=out)
        browser.close()
    print(f"{out}: show {show_id}")


if __name__ == "__main__":
    main(
        sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000",
        sys.argv[2] if len(sys.argv) > 2 else "docs/seat-map.png",
    )
