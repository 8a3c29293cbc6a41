"""A collector's first morning: sign in, find a customer, read the 360 page, switch to French."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

from .helpers import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_collector_opens_a_customer_from_the_list_and_switches_to_french(page, rich_world, screenshot):
    # Given alice, a collector, signed in
    login(page, "alice@example.com", PASSWORD)
    expect(page.locator("h1")).to_have_text("My portfolio")
    expect(page.get_by_test_id("overdue-customers")).to_contain_text("PAR001")
    screenshot(page, "01-home-collector")

    # When she opens the customer list
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    table = page.get_by_test_id("customer-table")
    expect(page.get_by_test_id("result-count")).to_have_text("57 customers")
    expect(table).to_contain_text("PAR001")
    expect(table).not_to_contain_text("LYO001")
    screenshot(page, "02-customer-list")

    # And searches for Atelier Paris and opens it
    page.get_by_role("searchbox", name="Search").fill("atelier")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("result-count")).to_have_text("1 customer")
    table.get_by_role("link", name="PAR001").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+/$"))

    # Then the 360 page shows its open invoices, the main AP contact and the balance
    open_items = page.get_by_test_id("open-items")
    expect(open_items).to_contain_text("INV-PAR001")
    expect(open_items).to_contain_text("INV-PAR002")
    expect(page.get_by_test_id("main-ap")).to_be_visible()
    expect(page.get_by_test_id("balances")).to_contain_text("EUR")
    screenshot(page, "03-customer-360")

    # When she switches the language to French
    page.select_option("#language-select", "fr")
    # Then the same page is shown in French
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Postes ouverts")).to_be_visible()
    expect(page.get_by_test_id("open-items")).to_contain_text("INV-PAR001")
    screenshot(page, "04-customer-360-fr")
