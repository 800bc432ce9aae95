"""Browser tests: the built web client (web/dist) in Debian's Chromium (/usr/bin/chromium, driven by
Playwright; Playwright never downloads a browser here), against the running system of tests/e2e (its
System: two intakes with the development sign-in on, behind the real NGINX, which serves the client).

The system here is the e2e System class, started for this package only (`scope="package"`): it is stopped
before tests/e2e starts its own, so the two never run at once (they would share the test stack's consumer
groups, and an e2e test that stops "the" processor would not stop this one).

Screenshots of every step go to $BOXOFFICE_STACK_DIR/test-logs/browser/<test>/NN-step.png (git-ignored).
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from intake.tokens import mint
from tests.browser.pages import sign_in
from tests.e2e.conftest import WEB_ROOT, System
from tests.support.api import Api
from tests.support.keys import session_signer

CHROMIUM = Path(os.environ.get("BOXOFFICE_CHROMIUM", "/usr/bin/chromium"))
# What works on these machines: headless, no sandbox (root), no GPU, and none of Chromium's own traffic
# (its background connections are refused by the closed network). Playwright adds a fresh user-data dir.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
# A loaded CI machine: what the page must come to show may take longer than Playwright's default 5 s. How soon
# it does is reported (the `report` fixture), never asserted.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="package")
def system(settings):
    if not (WEB_ROOT / "index.html").exists():
        pytest.fail(f"the web client is not built ({WEB_ROOT}): run `make install` (stack/stack.sh install)")
    log_dir = Path(os.environ.get("BOXOFFICE_STACK_DIR", ".stack-test")) / "test-logs"
    system = System(log_dir, settings)  # as tests/e2e's own `system` fixture builds it
    system.start()
    yield system
    system.stop()


@pytest.fixture(scope="package")
async def api(system, settings):
    client = Api(system.front_door.url, session_signer(settings))
    yield client
    await client.close()


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium package")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


class Shots:
    """Numbered screenshots of one test's steps, kept as test artifacts."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._n = itertools.count(1)
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*.png"):
            old.unlink()

    async def __call__(self, page: Page, step: str, full_page: bool = False) -> Path:
        path = self.directory / f"{next(self._n):02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower()).strip('-')}.png"
        await page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def shots(system, request) -> Shots:
    return Shots(system.log_dir / "browser" / request.node.name.replace("[", "-").rstrip("]"))


Session = Callable[..., Awaitable[Page]]


@pytest.fixture
async def session(browser, system) -> AsyncIterator[Session]:
    """`await session("alice")`: a page in a browser context of its own (its own storage: one person),
    signed in through the UI's development sign-in (a customer), or, `role="admin"` (or "scanner"), with a pasted
    token of the stack's key (dev sign-in never grants admin); `session(None)` stays signed out."""
    contexts: list[BrowserContext] = []

    async def open_session(name: str | None, role: str = "customer", **context_options) -> Page:
        context = await browser.new_context(base_url=system.front_door.url, **{"viewport": VIEWPORT, **context_options})
        contexts.append(context)
        page = await context.new_page()
        if name is not None:
            await sign_in(page, name, mint(session_signer(), name, role) if role != "customer" else None)
        return page

    yield open_session
    for context in contexts:
        await context.close()


@pytest.fixture
def report(system, capsys, request) -> Callable[[str, str], None]:
    """`report("what", "figure")`: printed as the test runs (not captured) and kept in figures.txt."""
    figures = system.log_dir / "browser" / "figures.txt"
    figures.parent.mkdir(parents=True, exist_ok=True)

    def say(what: str, figure: str) -> None:
        line = f"[browser] {what}: {figure}"
        with capsys.disabled():
            print(f"\n{line}", flush=True)
        with figures.open("a") as out:
            out.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {request.node.name} {line}\n")

    return say
