"""Helpers for browser journeys (import them: ``from tests.browser.helpers import login``)."""

from __future__ import annotations

from typing import Any


def login(page: Any, email: str, password: str) -> None:
    """Sign in through the login form and wait until the home page is shown."""
    page.goto("/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form[action='/login/'] button[type=submit]")
    if "/login/" in page.url:
        raise AssertionError(f"login as {email} failed: still on {page.url}")
