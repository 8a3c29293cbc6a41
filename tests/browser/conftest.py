"""Browser journeys: Playwright driving Debian's chromium against pytest-django's live server.

* Playwright never downloads a browser: it launches ``/usr/bin/chromium`` (``apt-get install chromium``).
* Without that binary every browser test is SKIPPED with a loud reason, also repeated in the
  terminal summary, unless ``RELANCE_REQUIRE_BROWSER=1`` is set: then they FAIL.
* Reusable pieces for later journeys: the ``browser`` (session), ``page`` (a fresh context on the
  live server per test) and ``screenshot`` fixtures, ``rich_world`` (the standard world with contacts,
  part payments, a credit note, a dispute and a long portfolio), and ``helpers.login(page, email, password)``.
* Tests take ``live_server`` and must be marked
  ``@pytest.mark.browser`` and ``@pytest.mark.django_db(transaction=True)``: the server thread
  must see the rows the test writes (the ``world`` fixture then runs in a transactional database).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import World

from .data import add_rich_data

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by fixtures
# around it are still synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# Belt and braces: never let Playwright fetch a browser of its own.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING_BROWSER = f"BROWSER TESTS SKIPPED: {CHROMIUM} not found; apt-get install chromium"
REQUIRED_BROWSER = f"BROWSER TESTS FAILED: {CHROMIUM} not found and RELANCE_REQUIRE_BROWSER=1; apt-get install chromium"
SCREENSHOT_DIR = Path(os.environ.get("RELANCE_SCREENSHOT_DIR", "/tmp/relance-screenshots"))
TIMEOUT_MS = 15_000


def chromium_available() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def browser_required() -> bool:
    return os.environ.get("RELANCE_REQUIRE_BROWSER", "").strip() in {"1", "true", "yes"}


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """Say it loudly at the end of the run when the journeys could not run."""
    if chromium_available():
        return
    ran_browser_tests = any(
        report.nodeid.startswith("tests/browser/")
        for key in ("skipped", "failed", "error", "passed")
        for report in terminalreporter.stats.get(key, [])
        if hasattr(report, "nodeid")
    )
    if ran_browser_tests:
        message = REQUIRED_BROWSER if browser_required() else MISSING_BROWSER
        terminalreporter.write_sep("!", message, red=True, bold=True)


def pytest_configure(config: pytest.Config) -> None:
    # WhiteNoise warns when STATIC_ROOT (var/static) has not been collected yet; irrelevant in tests.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One chromium for the whole session (Debian's, never a downloaded one)."""
    if not chromium_available():
        if browser_required():
            pytest.fail(REQUIRED_BROWSER, pytrace=False)
        pytest.skip(MISSING_BROWSER)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) on the live server; relative URLs work (``page.goto("/customers/")``)."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}, locale="en-GB", timezone_id="Europe/Paris"
    )
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    """``screenshot(page, "name")`` saves a full-page PNG under $RELANCE_SCREENSHOT_DIR (/tmp/relance-screenshots)."""

    def take(page: Any, name: str) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def rich_world(world: World) -> World:
    """The standard world, with what a customer 360 page shows: contacts, allocations, a credit note, a dispute."""
    add_rich_data(world)
    return world
