"""The SQL selectors give the hand-computed figures, at today and at past dates, within the user's scope."""

import datetime as dt
from decimal import Decimal as D

import pytest

from relance.analytics import domain, selectors
from relance.analytics.sql import KpiFilters
from relance.core.scope import SystemActor

from .example import ALLOCS, DOCS, PAYMENTS, RATES

SYSTEM = SystemActor("test")


def test_kpis_today_match_the_hand_computed_example(example_ledger):
    k = selectors.kpis(SYSTEM).kpis
    assert k.currency == "EUR"
    assert [a.amount for a in k.aging] == [D("500.00"), D("500.00"), D("0.00"), D("0.00"), D("1000.00"), D("0.00")]
    assert (k.total_receivables, k.overdue) == (D("2000.00"), D("1500.00"))
    assert (k.dso_standard, k.dso_countback) == (D("138.5"), D("109.6"))
    assert (k.average_days_of_payment, k.average_days_beyond_terms) == (D("43.3"), D("13.3"))
    assert (k.cei, k.collection_rate, k.collected) == (D("21.1"), D("16.7"), D("400.00"))
    assert (k.unapplied_cash, k.deposits, k.disputed) == (D("600.00"), D("200.00"), D("500.00"))
    assert k.by_risk_class == {"B": D("1300.00"), "D": D("700.00")}
    assert k.at_risk == D("1000.00")
    assert k.overdue_invoices == 3


@pytest.mark.parametrize(
    "day", [dt.date(2026, 3, 10), dt.date(2026, 3, 20), dt.date(2026, 4, 16), dt.date(2026, 6, 15)], ids=str
)
def test_past_dates_agree_with_the_reference_formulas(example_ledger, day):
    sql = selectors.kpis(SYSTEM, as_of=day).kpis
    ref = domain.reference_kpis(DOCS, ALLOCS, PAYMENTS, as_of=day, currency="EUR", rates=RATES)
    for name in (
        "aging", "dso_standard", "dso_countback", "average_days_of_payment", "average_days_beyond_terms", "cei",
        "collection_rate", "unapplied_cash", "deposits", "disputed", "by_risk_class", "at_risk", "overdue_invoices",
    ):  # fmt: skip
        assert getattr(sql, name) == getattr(ref, name), name


def test_presentation_currency(example_ledger):
    k = selectors.kpis(SYSTEM, currency="GBP").kpis
    assert k.currency == "GBP"
    assert k.total_receivables == D("1700.00")  # 1300 EUR = 1105 GBP, + 595 GBP
    assert k.unapplied_cash == D("510.00")


def test_filters_narrow_the_scope(example_ledger):
    assert selectors.kpis(SYSTEM, filters=KpiFilters(company="uk1")).kpis.total_receivables == D("700.00")
    assert selectors.kpis(SYSTEM, filters=KpiFilters(risk_class="B")).kpis.total_receivables == D("1300.00")
    assert selectors.kpis(SYSTEM, filters=KpiFilters(currency="GBP")).kpis.deposits == D("200.00")


def test_a_collector_sees_their_portfolio_only(example_ledger):
    k = selectors.kpis(example_ledger.users["collector"]).kpis
    assert k.total_receivables == D("1300.00")
    assert k.deposits == D("0.00")  # the deposit is customer 2's


def test_trend_has_twelve_month_ends(example_ledger):
    result = selectors.kpis(SYSTEM, trend=True)
    assert len(result.trend) == 12
    assert result.trend[-1] == (dt.date(2026, 6, 30), D("138.5"), D("2000.00"))
    may = result.trend[-2]
    assert may[0] == dt.date(2026, 5, 31) and may[2] == D("2000.00")
