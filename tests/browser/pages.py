"""What the browser tests do on the client's pages, by the selectors docs/WEB.md lists."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.support import ids


async def sign_in(page: Page, name: str, token: str | None = None) -> None:
    """A customer through the development sign-in; with `token` (an admin's, from the stack's key, as
    `boxoffice token --role admin` mints it: dev sign-in never grants admin), by pasting it."""
    await page.goto("/signin")
    if token is None:
        await page.get_by_label("Name").fill(name)
        await page.get_by_test_id("signin-submit").click()
    else:
        await page.get_by_role("button", name="Paste a token instead").click()
        await page.get_by_label("Token").fill(token)
        await page.get_by_test_id("token-submit").click()
    await expect(page.get_by_test_id("signed-in-as")).to_have_attribute("data-sub", name)


def person(name: str) -> str:
    return ids.customer(name)


async def open_map(page: Page, show_id: str) -> None:
    """The show's page with its seat map loaded and its change stream live."""
    await page.goto(f"/shows/{show_id}")
    await expect(page.get_by_test_id("seat-map")).to_have_attribute("data-loaded", "true")
    await expect(page.get_by_test_id("live-status")).to_have_attribute("data-status", "live")


async def seat_states(page: Page, seats: list[str]) -> list[str | None]:
    return await page.evaluate("(seats) => seats.map((s) => window.__seatState(s))", seats)


async def wait_seat_states(page: Page, seats: list[str], state: str, timeout_s: float, raw: bool = False) -> None:
    """Until every seat shows `state` (raw: the map's own state, where a seat of mine is held or booked)."""
    fn = "__seatMapState" if raw else "__seatState"
    await page.wait_for_function(
        f"([seats, state]) => seats.every((s) => window.{fn} && window.{fn}(s) === state)",
        arg=[seats, state],
        timeout=timeout_s * 1000,
        polling="raf",
    )


async def pay_on_provider(page: Page) -> str:
    """Pay for the booking on screen as a buyer does: Pay, the development provider's own page (test mode),
    its test card; back on the order page. Returns the booking id the provider sent the buyer back for."""
    await page.get_by_test_id("pay-button").click()
    await expect(page.get_by_text("TEST MODE")).to_be_visible(timeout=15_000)
    await page.get_by_role("button", name="Pay with test card").click()
    await page.wait_for_url("**/me/bookings/*?paid=1", timeout=15_000)
    return page.url.split("/me/bookings/")[1].split("?")[0]
