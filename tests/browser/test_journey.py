"""The whole way from the seat map to the door, in Chromium as people use it: pick seats and see the total,
pay on the development provider's own page, come back to a CONFIRMED order with one QR ticket per seat, and at
the gate a scanner admits the ticket once (a second scan: already used). Desktop, and the phone screenshots
of docs/WEB.md (390x844)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import expect

from tests.browser.pages import open_map, pay_on_provider, person

ROOT = Path(__file__).resolve().parents[2]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


async def test_pick_pay_ticket_and_the_door(api, session, shots, system):
    # docs/WEB.md's phone screenshots, when asked for (BOXOFFICE_DOC_SHOTS=1); else beside the other shots
    doc_shots = ROOT / "docs" / "web" if os.environ.get("BOXOFFICE_DOC_SHOTS") else system.log_dir / "browser" / "doc"
    doc_shots.mkdir(parents=True, exist_ok=True)
    show_id = await api.create_show(
        [{"name": "Stalls", "rows": 4, "seats_per_row": 8, "price_cents": 4500}],
        title="The whole journey",
        currency="EUR",
    )
    name = person("buyer")
    buyer = await session(name, **PHONE)
    await open_map(buyer, show_id)
    await buyer.locator('[data-seat-id="Stalls-2-4"]').click()
    await buyer.locator('[data-seat-id="Stalls-2-5"]').click()
    await expect(buyer.get_by_test_id("selection-total")).to_contain_text("€90.00")
    await buyer.screenshot(path=str(doc_shots / "phone-pick-seats.png"))
    await buyer.get_by_test_id("book-button").click()
    status = buyer.get_by_test_id("booking-panel").get_by_test_id("booking-status")
    await expect(status).to_have_attribute("data-status", "PENDING", timeout=15_000)
    await expect(buyer.get_by_test_id("pay-button")).to_have_text("Pay €90.00")
    await shots(buyer, "held: pay")

    booking_id = await pay_on_provider(buyer)
    await expect(buyer.get_by_test_id("booking-status")).to_have_attribute("data-status", "CONFIRMED", timeout=20_000)
    await expect(buyer.get_by_test_id("booking-payment")).to_have_text("Paid: €90.00")
    tickets = buyer.get_by_test_id("ticket")
    await expect(tickets).to_have_count(2)
    await expect(buyer.get_by_test_id("ticket-qr").first).to_be_visible()
    await buyer.screenshot(path=str(doc_shots / "phone-order-tickets.png"), full_page=True)
    r = await api.http.get(f"/v1/bookings/{booking_id}/tickets", headers=api.auth(name))
    code = r.json()["tickets"][0]["code"]
    assert await buyer.get_by_test_id("ticket-code").first.text_content() == code

    gate = await session("gate-north", role="scanner", **PHONE)
    await gate.goto("/scan")
    await gate.get_by_test_id("scan-gate").fill("North")
    await gate.get_by_test_id("scan-code").fill(code)
    await gate.get_by_test_id("scan-submit").click()
    result = gate.get_by_test_id("scan-result")
    await expect(result).to_have_attribute("data-result", "admitted", timeout=15_000)
    await gate.screenshot(path=str(doc_shots / "phone-scan-admitted.png"))
    await gate.get_by_test_id("scan-submit").click()
    await expect(result).to_have_attribute("data-result", "already_used", timeout=15_000)
    await expect(gate.get_by_test_id("scan-first-use")).to_contain_text("gate North")
    await gate.screenshot(path=str(doc_shots / "phone-scan-already-used.png"))

    # The buyer's own list names the show and the seats, with the total; the cancel asks first, with the terms.
    await buyer.goto("/me")
    row = buyer.locator(f'[data-booking-id="{booking_id}"]')
    await expect(row.get_by_test_id("booking-seats")).to_contain_text("Stalls, row 2, seat 4")
    await expect(row).to_contain_text("The whole journey")
    await row.get_by_test_id("cancel-button").click()
    await expect(row.get_by_test_id("cancel-terms")).to_contain_text("You get back €90.00")
    await buyer.screenshot(path=str(doc_shots / "phone-cancel-terms.png"))
    await row.get_by_test_id("cancel-keep").click()
    await expect(row.get_by_test_id("booking-status")).to_have_attribute("data-status", "CONFIRMED")
