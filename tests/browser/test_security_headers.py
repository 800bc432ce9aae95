"""The front door's Content-Security-Policy (stack/nginx/headers.conf) does not break the client: the shows,
a show's live seat map (canvas, styles set by React, the event stream) and the sign-in work in Chromium with
no violation reported, neither as a `securitypolicyviolation` event nor on the console."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.pages import open_map, person

# Recorded from the first script on, in every document of the context (before the app's own code runs).
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample});
});
"""


async def test_the_app_runs_under_its_content_security_policy(api, system, session, shots):
    show_id = await api.create_show(title="Under the policy")
    page = await session(None)
    await page.context.add_init_script(WATCH_VIOLATIONS)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)

    response = await page.goto("/")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    # the listing rendered (sorted by start: the show of this test may be on a later page)
    await expect(page.get_by_role("heading", level=2).first).to_be_visible()

    await page.goto("/signin")
    await page.get_by_label("Name").fill(person("csp"))
    await page.get_by_test_id("signin-submit").click()
    await expect(page.get_by_test_id("signed-in-as")).to_be_visible()

    await open_map(page, show_id)  # the map rendered, its stream live
    await page.locator('[data-seat-id="A-1-1"]').click()
    await expect(page.get_by_test_id("selection-summary")).to_contain_text("1 of 10 seats picked")
    await shots(page, "the seat map under the policy")

    violations = await page.evaluate("window.__cspViolations")
    assert violations == [], violations
    assert not [line for line in console if "Content Security Policy" in line], console
