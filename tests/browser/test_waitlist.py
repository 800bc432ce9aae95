"""The waiting list in the browser: with every seat held, booking is disabled and says why, the person joins
the list and sees their place; when the holder cancels, the offer appears and is confirmed like a booking."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.pages import open_map, pay_on_provider, person
from tests.support import ids


async def test_a_person_waits_for_a_held_out_show_and_confirms_the_seats_offered(api, session, shots):
    show_id = await api.create_show(
        [{"name": "A", "rows": 1, "seats_per_row": 2, "price_cents": 3000}], title="Held out"
    )
    holder = ids.customer("holder")
    held = (await api.book(holder, show_id, quantity=2)).json()["booking_id"]
    await api.wait_status(holder, held, {"PENDING"})

    page = await session(person("waiter"))
    await open_map(page, show_id)
    await expect(page.get_by_test_id("booking-blocked")).to_contain_text("Every remaining seat is held")
    await expect(page.get_by_test_id("book-best-button")).to_be_disabled()
    await page.get_by_test_id("waitlist-quantity").fill("2")
    await page.get_by_test_id("waitlist-join").click()
    place = page.get_by_test_id("waitlist-place")
    await expect(place).to_have_attribute("data-status", "WAITING", timeout=15_000)
    await expect(place).to_contain_text("You are number 1 of 1 on the waiting list for 2 seats")
    await shots(page, "waiting")

    r = await api.http.post(f"/v1/bookings/{held}/cancel", headers=api.auth(holder))
    assert r.status_code == 202, r.text
    await expect(place).to_have_attribute("data-status", "OFFERED", timeout=15_000)
    await page.get_by_test_id("waitlist-offer").click()
    panel = page.get_by_test_id("booking-panel")
    await expect(panel.get_by_test_id("booking-status")).to_have_attribute("data-status", "PENDING")
    await shots(page, "offered")
    await pay_on_provider(page)
    await expect(page.get_by_test_id("booking-status")).to_have_attribute("data-status", "CONFIRMED", timeout=15_000)
    await shots(page, "confirmed")
