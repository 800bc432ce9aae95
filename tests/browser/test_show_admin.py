"""An administrator sees each show's sales per section, renames a show and cancels it from /admin; its
customer's booking reads cancelled."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.pages import person
from tests.support import ids


async def test_an_admin_sees_the_sales_and_cancels_a_show(api, session, shots):
    title = f"To be cancelled {ids.suffix()}"
    show_id = await api.create_show(
        [{"name": "A", "rows": 1, "seats_per_row": 4, "price_cents": 2000}],
        title=title,
        starts_at="2030-01-01T20:00:00Z",
    )
    buyer = ids.customer("buyer")
    booking_id = (await api.book(buyer, show_id, seats=["A-1-1", "A-1-2"])).json()["booking_id"]
    await api.wait_status(buyer, booking_id, {"PENDING"})
    await api.http.post(f"/v1/bookings/{booking_id}/confirm", json={"payment_reference": "p"}, headers=api.auth(buyer))
    await api.wait_status(buyer, booking_id, {"CONFIRMED"})

    page = await session(person("ops"), role="admin")
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto("/admin")
    row = page.locator(f'[data-testid=admin-show][data-show-id="{show_id}"]')
    await expect(row).to_be_visible(timeout=15_000)
    await expect(row.get_by_test_id("admin-sold")).to_have_text("2")
    await expect(row.get_by_test_id("admin-revenue")).to_contain_text("40.00")
    await row.scroll_into_view_if_needed()
    await shots(page, "the show's sales")
    await row.get_by_text("Edit", exact=True).click()
    await row.get_by_label("New name").fill(title + " (renamed)")
    await row.get_by_test_id("admin-edit-submit").click()
    await expect(row.get_by_role("link", name=title + " (renamed)")).to_be_visible(timeout=15_000)
    await row.get_by_test_id("admin-cancel-show").click()
    await expect(row.get_by_test_id("admin-show-state")).to_have_text("(cancelled)", timeout=15_000)
    await expect(row.get_by_test_id("admin-sold")).to_have_text("0")
    await shots(page, "cancelled")
    cancelled = await api.wait_status(buyer, booking_id, {"CANCELLED"})
    assert cancelled["reason"] == "show_cancelled"
