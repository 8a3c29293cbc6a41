"""The pages hold together: the login page, and the main pages on a phone-sized screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

from .helpers import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def horizontal_overflow(page) -> int:
    """Pixels the page is wider than the screen (tables scroll inside their own box instead)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_an_anonymous_visitor_lands_on_the_login_page_and_a_wrong_password_is_explained(page, world, screenshot):
    page.goto("/customers/")
    expect(page).to_have_url(f"{page.url.split('/login/')[0]}/login/?next=/customers/")
    page.fill("input[name=username]", "alice@example.com")
    page.fill("input[name=password]", "not-the-password")
    page.click("form[action='/login/'] button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Unknown e-mail or wrong password.")
    screenshot(page, "00-login-error")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    expect(page.locator("h1")).to_have_text("Customers")


def test_the_main_pages_fit_a_phone_screen(page, rich_world, screenshot):
    login(page, "alice@example.com", PASSWORD)
    page.set_viewport_size(PHONE)
    par, doc = rich_world.customers["c_par_alice"].pk, rich_world.documents["c_par_alice"].pk
    for name, url in [
        ("home", "/"),
        ("customers", "/customers/"),
        ("customer-360", f"/customers/{par}/"),
        ("documents", "/documents/"),
        ("document", f"/documents/{doc}/"),
    ]:
        page.goto(url)
        assert horizontal_overflow(page) <= 0, f"{url} is wider than the phone screen"
        # the navigation folds behind a menu button
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_be_hidden()
        page.locator("label.nav-toggle-label").click()
        expect(nav).to_be_visible()
        screenshot(page, f"08-phone-{name}")
