"""A credit manager reviews the group: figures by company, then a partly paid invoice and its credit note."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

from .helpers import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_credit_manager_follows_an_invoice_from_the_overdue_list_to_its_credit_note(page, rich_world, screenshot):
    # Given a credit manager of the whole group, signed in
    login(page, "cm@example.com", PASSWORD)
    # Then the home page shows both companies
    by_company = page.get_by_test_id("totals-by-company")
    expect(by_company).to_contain_text("FR1")
    expect(by_company).to_contain_text("UK1")
    screenshot(page, "05-home-credit-manager")

    # When she lists the overdue invoices, oldest first
    page.get_by_role("link", name="Overdue invoices").first.click()
    table = page.get_by_test_id("document-table")
    expect(table).to_contain_text("INV-LYO001")
    expect(table).to_contain_text("INV-UK0002")
    screenshot(page, "06-documents-overdue")

    # And opens the partly paid invoice
    page.get_by_role("searchbox", name="Search").fill("INV-PAR002")
    page.get_by_role("button", name="Apply").click()
    table.get_by_role("link", name="INV-PAR002").click()

    # Then she sees what settled part of it: a payment and a credit note
    expect(page.get_by_test_id("open-amount")).to_have_text("€2,060.00")
    settlements = page.get_by_test_id("allocations-in")
    expect(settlements).to_contain_text("PAY-PAR001")
    expect(settlements).to_contain_text("CN-PAR001")
    screenshot(page, "07-document-detail")

    # And the credit note shows where it was applied
    settlements.get_by_role("link", name="CN-PAR001").click()
    expect(page.get_by_test_id("allocations-out")).to_contain_text("INV-PAR002")
