"""The live seat map in a real browser: two people on the same show see each other's holds and bookings
without reloading, a hold that runs out frees its seats on every open map, and an open map rides out the
restart of the intake instances (its stream reconnects through NGINX and catches up)."""

from __future__ import annotations

import time

from playwright.async_api import Route, expect

from tests.browser.pages import open_map, pay_on_provider, person, seat_states, wait_seat_states

TWO_ROWS = [{"name": "A", "rows": 2, "seats_per_row": 8, "price_cents": 2500}]


async def mark_document(page) -> None:
    """A flag that only survives as long as the document does: still there = never reloaded."""
    await page.evaluate("window.__sameDocument = true")


async def same_document(page) -> bool:
    return await page.evaluate("window.__sameDocument === true")


async def test_two_people_see_each_other_live(api, session, shots, report):
    show_id = await api.create_show(TWO_ROWS, title="Two people, one show")
    alice_name, bob_name = person("alice"), person("bob")
    alice, bob = await session(alice_name), await session(bob_name)
    await open_map(alice, show_id)
    await open_map(bob, show_id)
    await mark_document(bob)
    await shots(bob, "bob opens the show")

    # Alice books two seats: Bob's map shows them held without a reload (how soon is reported, not asserted).
    seats = ["A-1-1", "A-1-2"]
    for seat in seats:
        await alice.locator(f'[data-seat-id="{seat}"]').click()
    await expect(alice.get_by_test_id("selection-summary")).to_contain_text("2 of 10 seats picked")
    await shots(alice, "alice picks two seats")
    clicked = time.monotonic()
    await alice.get_by_test_id("book-button").click()
    await wait_seat_states(bob, seats, "held", timeout_s=15)
    seen_after = time.monotonic() - clicked
    assert await same_document(bob)
    await expect(bob.get_by_label("Section A, row 1, seat 2, held", exact=True)).to_be_visible()
    await shots(bob, "bob sees them held")
    report("two sessions: Alice's hold on Bob's open map", f"{seen_after * 1000:.0f} ms after her click")

    # Alice confirms: booked on both maps (hers shows them as hers).
    status = alice.get_by_test_id("booking-panel").get_by_test_id("booking-status")
    await expect(status).to_have_attribute("data-status", "PENDING")
    await expect(alice.get_by_test_id("hold-countdown")).to_be_visible()
    await shots(alice, "alice holds the seats")
    await pay_on_provider(alice)  # the provider's page, then back on her order page
    await expect(alice.get_by_test_id("booking-status")).to_have_attribute("data-status", "CONFIRMED")
    await open_map(alice, show_id)
    await wait_seat_states(bob, seats, "booked", timeout_s=15)
    await wait_seat_states(alice, seats, "booked", timeout_s=15, raw=True)
    assert await seat_states(alice, seats) == ["mine", "mine"]
    await expect(alice.get_by_label("Section A, row 1, seat 1, mine, booked", exact=True)).to_be_visible()
    assert await same_document(bob)
    await shots(alice, "alice confirmed")
    await shots(bob, "bob sees them booked")

    # Bob tries one of them: the map refuses to pick it, and says so. (The seat is aria-disabled, which
    # Playwright's actionability check honours, but a person can still click it: force the click.)
    await bob.locator('[data-seat-id="A-1-1"]').click(force=True)
    await expect(bob.get_by_test_id("selection-message")).to_have_text(
        "Section A, row 1, seat 1, booked: this seat cannot be picked."
    )
    await expect(bob.get_by_test_id("selection-summary")).to_contain_text("Pick up to 10 seats")
    await shots(bob, "bob cannot pick a booked seat")

    # Bob books a seat that is free on his map, but Alice takes it while his request is on its way: the
    # processor rejects his booking and his page says why.
    async def alice_takes_it_first(route: Route) -> None:
        taken = await api.book(alice_name, show_id, seats=["A-1-3"])
        await api.wait_status(alice_name, taken.json()["booking_id"], {"PENDING"})
        await route.continue_()

    await bob.locator('[data-seat-id="A-1-3"]').click()
    await expect(bob.get_by_test_id("selection-summary")).to_contain_text("A, row 1, seat 3")
    await bob.route("**/v1/shows/*/bookings", alice_takes_it_first)
    await bob.get_by_test_id("book-button").click()
    bob_status = bob.get_by_test_id("booking-panel").get_by_test_id("booking-status")
    await expect(bob_status).to_have_attribute("data-status", "REJECTED", timeout=15_000)
    await expect(bob.get_by_test_id("booking-panel").get_by_test_id("booking-message")).to_have_text(
        "Someone else got one or more of these seats just before you. Please pick other seats and try again."
    )
    await wait_seat_states(bob, ["A-1-3"], "held", timeout_s=15)  # the map and the status come by two paths
    await shots(bob, "bob is told the seat was taken")


async def test_a_hold_that_runs_out_frees_its_seats_on_every_open_map(api, session, shots, report):
    show_id = await api.create_show(TWO_ROWS, hold_seconds=10, title="Ten-second holds")
    holder, visitor = await session(person("holder")), await session(None)
    await open_map(holder, show_id)
    await open_map(visitor, show_id)
    seats = ["A-2-4", "A-2-5"]
    for seat in seats:
        await holder.locator(f'[data-seat-id="{seat}"]').click()
    await holder.get_by_test_id("book-button").click()
    status = holder.get_by_test_id("booking-panel").get_by_test_id("booking-status")
    await expect(status).to_have_attribute("data-status", "PENDING")
    await wait_seat_states(visitor, seats, "held", timeout_s=15)
    await shots(holder, "held for ten seconds")
    await shots(visitor, "the visitor sees them held")

    # Nobody confirms: 10 s later (the e2e expiry sweeps every 0.5 s) they are free on both maps.
    started = time.monotonic()
    await wait_seat_states(visitor, seats, "available", timeout_s=40)
    freed_after = time.monotonic() - started
    await wait_seat_states(holder, seats, "available", timeout_s=15)
    await expect(status).to_have_attribute("data-status", "EXPIRED", timeout=10_000)
    await expect(holder.get_by_test_id("booking-panel").get_by_test_id("booking-message")).to_contain_text(
        "Your hold ran out"
    )
    await expect(visitor.get_by_label("Section A, row 2, seat 4, available", exact=True)).to_be_visible()
    await shots(holder, "the hold ran out")
    await shots(visitor, "the visitor sees them free again")
    report("hold expiry: seats free on the open map", f"{freed_after:.1f} s after the hold was seen (10 s hold)")


async def test_an_open_map_rides_out_intake_restarts(api, system, session, shots, report):
    show_id = await api.create_show(
        [{"name": "A", "rows": 1, "seats_per_row": 10, "price_cents": 100}], title="Intake restarts"
    )
    page = await session(None)
    await open_map(page, show_id)
    await mark_document(page)
    # Every status the live indicator goes through, as the page shows them.
    await page.evaluate("""() => {
        const el = document.querySelector('[data-testid=live-status]');
        window.__statuses = [el.dataset.status];
        new MutationObserver(() => window.__statuses.push(el.dataset.status))
          .observe(el, { attributes: true, attributeFilter: ['data-status'] });
    }""")
    await shots(page, "the map is live")
    for n, intake in enumerate(system.intakes, start=1):  # whichever serves the stream: one at a time
        intake.stop()
        customer = person("restart")
        # NGINX may still skip the instance restarted a moment ago (fail_timeout): retried, as clients do.
        booked = await api.book(customer, show_id, seats=[f"A-1-{n}"], retry_unavailable=True)
        await api.wait_status(customer, booked.json()["booking_id"], {"PENDING"})
        intake.start()
        await wait_seat_states(page, [f"A-1-{n}"], "held", timeout_s=15)
        await shots(page, f"caught up after restarting intake {n}")
    await expect(page.get_by_test_id("live-status")).to_have_attribute("data-status", "live")
    statuses = await page.evaluate("window.__statuses")
    assert "reconnecting" in statuses or "offline" in statuses, statuses  # it did lose its stream
    assert await same_document(page)
    assert await seat_states(page, ["A-1-1", "A-1-2", "A-1-3"]) == ["held", "held", "available"]
    report("intake restarts: live indicator went", " → ".join(statuses))
