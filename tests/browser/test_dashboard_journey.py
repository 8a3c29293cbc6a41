"""Dashboards in a real browser: a collector and the finance director (credit manager) see their charts drawn,
drill down from a figure to the documents or customers behind it, and export a table."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from relance.ledger.models import ExchangeRate
from tests.conftest import PASSWORD

from .helpers import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rates(rich_world):
    ExchangeRate.objects.create(date=dt.date(2026, 1, 2), currency="GBP", rate=Decimal("0.85"))
    return rich_world


def drawn_bars(page, testid: str) -> int:
    """How many bars of the chart have a visible size (the SVG is really laid out by the browser)."""
    return (
        page.get_by_test_id(testid)
        .locator("rect.bar")
        .evaluate_all(
            "rs => rs.filter(r => { const b = r.getBoundingClientRect(); return b.height > 0 && b.width > 0; }).length"
        )
    )


def test_a_collector_sees_their_dashboard_drills_down_and_exports(page, rates, screenshot, tmp_path):
    # Given collector alice, signed in
    login(page, "alice@example.com", PASSWORD)
    # Then her dashboard shows her portfolio's figures and the charts are drawn
    expect(page.get_by_test_id("dashboard")).to_be_visible()
    assert drawn_bars(page, "chart-aging") == 6
    assert drawn_bars(page, "chart-forecast") == 13
    expect(page.get_by_test_id("chart-risk")).to_have_count(0)
    screenshot(page, "40-dashboard-collector")

    # When she clicks the "Overdue" figure
    page.get_by_test_id("kpi-overdue").get_by_role("link").click()
    # Then she sees her overdue invoices only
    table = page.get_by_test_id("document-table")
    expect(table).to_contain_text("INV-PAR001")
    expect(table).not_to_contain_text("INV-LYO001")

    # And back on the dashboard, she exports the aged balance by customer
    page.goto("/")
    with page.expect_download() as info:
        page.get_by_test_id("export-customers-csv").click()
    path = tmp_path / "customers.csv"
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    assert text.startswith("company,customer_ref,customer_name")
    assert "PAR001" in text and "LYO001" not in text


def test_the_finance_director_sees_the_group_filters_drills_down_and_exports(page, rates, screenshot, tmp_path):
    # Given the credit manager of the whole group (the finance director), signed in
    login(page, "cm@example.com", PASSWORD)
    for chart in ("chart-aging", "chart-forecast", "chart-risk"):
        assert drawn_bars(page, chart) >= 1, chart
    assert page.get_by_test_id("chart-dso").locator("circle.dot").count() >= 1  # months with sales have a DSO
    total = page.get_by_test_id("kpi-total_receivables").get_attribute("data-value")
    screenshot(page, "41-dashboard-finance-director")

    # When she narrows the dashboard to the French company
    page.get_by_label("Company").first.select_option("FR1")
    page.get_by_test_id("dashboard-filters").get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("dashboard")).to_be_visible()
    assert "company=FR1" in page.url
    assert page.get_by_test_id("kpi-total_receivables").get_attribute("data-value") != total

    # And clicks the aged-balance bar of invoices 31-60 days past due
    page.get_by_test_id("chart-aging").locator("a.bar-link").nth(2).click()
    # Then the list shows the open items of that bucket in that company
    expect(page).to_have_url(re.compile(r"/documents/\?.*company=FR1.*days_min=31&days_max=60"))
    expect(page.get_by_test_id("document-table")).to_be_visible()
    screenshot(page, "42-dashboard-drill-down")

    # And the KPI table exports as XLSX
    page.goto("/?company=FR1")
    with page.expect_download() as info:
        page.get_by_test_id("export-kpi-xlsx").click()
    path = tmp_path / "kpi.xlsx"
    info.value.save_as(path)
    from openpyxl import load_workbook

    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0] == ("kpi", "value", "currency")
    figures = {r[0]: r[1] for r in rows[1:]}
    shown = page.get_by_test_id("kpi-total_receivables").get_attribute("data-value")
    assert Decimal(str(figures["total_receivables"])) == Decimal(shown)  # a number cell in the workbook
