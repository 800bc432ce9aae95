"""An administrator creates a show through the UI and it appears in the listing; a person picks and books
seats with the keyboard alone."""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.async_api import expect

from tests.browser.pages import open_map, person
from tests.support import ids


async def test_an_admin_creates_a_show_and_it_is_listed(session, shots):
    page = await session(person("ops"), role="admin")
    await page.goto("/admin")
    title = f"Created in the browser {ids.suffix()}"
    starts = (datetime.now() + timedelta(days=30)).replace(hour=19, minute=30)
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Venue").fill("Browser Hall")
    await page.get_by_label("Starts at (your local time)").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Hold seconds").fill("300")
    await page.get_by_label("Section 1 name").fill("S")
    await page.get_by_label("Section 1 rows").fill("4")
    await page.get_by_label("Section 1 seats per row").fill("12")
    await page.get_by_label("Section 1 price", exact=True).fill("45.00")
    await page.get_by_test_id("add-section").click()
    await page.get_by_label("Section 2 name").fill("B")
    await page.get_by_label("Section 2 rows").fill("2")
    await page.get_by_label("Section 2 seats per row").fill("10")
    await page.get_by_label("Section 2 price", exact=True).fill("20")
    await expect(page.get_by_test_id("seat-total")).to_contain_text("68 seats")
    await shots(page, "the form filled in")
    await page.get_by_test_id("create-show-submit").click()

    created = page.get_by_test_id("created-show")
    await expect(created).to_have_attribute("data-ready", "true", timeout=15_000)
    show_id = await page.get_by_test_id("created-show-id").inner_text()
    await shots(page, "created")

    # The listing, reached through the app's own navigation, has it (a page at a time, by start time).
    await page.get_by_role("link", name="Shows", exact=True).click()
    item = page.locator(f'[data-testid=show-item][data-show-id="{show_id}"]')
    await expect(page.get_by_test_id("show-list")).to_be_visible()
    items = page.get_by_test_id("show-item")
    for _ in range(500):
        if await item.count():
            break
        listed = await items.count()
        await page.get_by_test_id("load-more-shows").click()  # no such button: the listing ended without it
        await expect(items).not_to_have_count(listed)
    await expect(item).to_be_visible()
    await expect(item.get_by_role("link", name=title)).to_be_visible()
    await expect(item.get_by_test_id("show-availability")).to_have_attribute("data-available", "68")
    await item.scroll_into_view_if_needed()
    await shots(page, "in the listing")

    await item.get_by_role("link", name=title).click()
    await expect(page.get_by_test_id("show-title")).to_have_text(title)
    await expect(page.get_by_test_id("seat-map")).to_have_attribute("data-total", "68")
    await shots(page, "its seat map")


async def test_seats_are_picked_and_booked_with_the_keyboard(api, session, shots):
    show_id = await api.create_show(
        [{"name": "A", "rows": 3, "seats_per_row": 6, "price_cents": 1500}], title="Keyboard only"
    )
    page = await session(person("kim"))
    await open_map(page, show_id)

    # Tab until the focus is on a seat: one seat of the map is in the tab order.
    label = None
    for _ in range(40):
        await page.keyboard.press("Tab")
        label = await page.evaluate("document.activeElement && document.activeElement.getAttribute('aria-label')")
        if label and label.startswith("Section "):
            break
    assert label == "Section A, row 1, seat 1, available"
    await page.keyboard.press("ArrowRight")
    focused = page.locator(":focus")
    await expect(focused).to_have_attribute("aria-label", "Section A, row 1, seat 2, available")
    await page.keyboard.press("Enter")
    await expect(focused).to_have_attribute("aria-pressed", "true")
    await page.keyboard.press("ArrowDown")
    await expect(focused).to_have_attribute("aria-label", "Section A, row 2, seat 2, available")
    await page.keyboard.press(" ")
    await expect(focused).to_have_attribute("aria-pressed", "true")
    await expect(page.get_by_test_id("selection-summary")).to_contain_text(
        "2 of 10 seats picked: A, row 1, seat 2; A, row 2, seat 2"
    )
    await expect(page.get_by_test_id("selection-message")).to_contain_text("Picked A, row 2, seat 2")
    await shots(page, "two seats picked by keyboard")

    # Space again on the same seat unpicks it; Enter picks it back.
    await page.keyboard.press(" ")
    await expect(focused).to_have_attribute("aria-pressed", "false")
    await page.keyboard.press("Enter")
    await expect(focused).to_have_attribute("aria-pressed", "true")

    # On to the Book button by Tab, and Enter books.
    for _ in range(20):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement && document.activeElement.dataset.testid") == "book-button":
            break
    await page.keyboard.press("Enter")
    status = page.get_by_test_id("booking-panel").get_by_test_id("booking-status")
    await expect(status).to_have_attribute("data-status", "PENDING")
    await expect(page.get_by_label("Section A, row 2, seat 2, mine, held", exact=True)).to_be_visible()
    await shots(page, "booked by keyboard")


async def test_a_show_being_created_reads_at_once_and_goes_on_sale(api, system, session, shots):
    system.processor.stop()  # its creation waits in the queue
    try:
        body = {
            "title": "Not yet decided",
            "venue": "Queue Hall",
            "starts_at": "2099-02-01T20:00:00Z",
            "sections": [{"name": "A", "rows": 2, "seats_per_row": 5, "price_cents": 100}],
        }
        r = await api.http.post("/v1/shows", json=body, headers=api.auth("admin-1", "admin"))
        assert r.status_code == 202, r.text
        show_id = r.json()["show_id"]
        page = await session(None)
        await page.goto(f"/shows/{show_id}")
        await expect(page.get_by_test_id("show-title")).to_have_text("Not yet decided")
        await expect(page.get_by_test_id("seat-map")).to_have_attribute("data-version", "0")
        await expect(page.get_by_test_id("show-provisional")).to_be_visible()
        await shots(page, "being set up")
    finally:
        system.processor.start()
    # Created (version 1, on the stream): the notice goes, without a reload.
    await expect(page.get_by_test_id("seat-map")).to_have_attribute("data-version", "1", timeout=20_000)
    await expect(page.get_by_test_id("show-provisional")).to_have_count(0)
    await shots(page, "on sale")
