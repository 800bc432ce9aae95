"""A sale that has not opened yet, in the browser: a countdown and no way to book; at the opening the fair
start's notice; a request made then says it is in the draw, and is decided when the window ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from tests.browser.pages import open_map, person


async def test_the_sale_counts_down_then_the_fair_start_decides_a_request_at_its_end(api, session, shots):
    page = await session(person("fair"))
    opens = datetime.now(UTC) + timedelta(seconds=10)
    show_id = await api.create_show(
        [{"name": "A", "rows": 2, "seats_per_row": 6, "price_cents": 2500}],
        title="Fair start",
        sale_opens_at=opens.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        fair_start_window_s=5,
    )
    await open_map(page, show_id)
    notice = page.get_by_test_id("sale-notice")
    await expect(notice).to_have_attribute("data-phase", "before")
    await expect(notice).to_contain_text("Sales open in")
    await expect(notice).to_contain_text("first 5 s is drawn in a random order")
    await expect(page.get_by_test_id("book-best-button")).to_be_disabled()
    await expect(page.get_by_test_id("booking-blocked")).to_contain_text("Sales have not opened yet")
    await shots(page, "before the opening")

    # At the opening, without a reload: the fair start's notice, and booking is possible.
    await expect(notice).to_have_attribute("data-phase", "fair-start", timeout=15_000)
    await expect(page.get_by_test_id("book-best-button")).to_be_enabled()
    await page.get_by_test_id("best-quantity").fill("2")
    await page.get_by_test_id("book-best-button").click()
    panel = page.get_by_test_id("booking-panel")
    await expect(panel.get_by_test_id("booking-status")).to_have_attribute("data-status", "RECEIVED")
    await expect(panel.get_by_test_id("fair-start-draw")).to_contain_text("fair-start draw")
    await shots(page, "in the draw")

    # The window ends: the request is decided (the only one, so it is held), and the notice goes.
    await expect(panel.get_by_test_id("booking-status")).to_have_attribute("data-status", "PENDING", timeout=20_000)
    await expect(page.get_by_test_id("sale-notice")).to_have_count(0)
    assert datetime.now(UTC) >= opens + timedelta(seconds=5)
    await shots(page, "decided after the window")
