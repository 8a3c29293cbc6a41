"""The home dashboard: KPIs agree with `relance kpi` and the API, charts are drawn, links drill down, tables
export within scope, filters narrow, bad filters are explained."""

from __future__ import annotations

import csv
import io
import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.web.conftest import document_numbers

HOME = reverse("web:home")
KPI = re.compile(r'data-testid="kpi-([a-z_]+)" data-value="([^"]*)"')


def page_kpis(html: str) -> dict[str, str]:
    return {k: v for k, v in KPI.findall(html)}


def cli(*args):
    out = StringIO()
    call_command("kpi", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("query", [{}, {"date": "2026-04-16"}, {"company": "UK1"}, {"risk_class": "B"}], ids=str)
def test_page_cli_and_api_agree(example_ledger, client, query):
    client.force_login(example_ledger.users["credit_manager"])
    html = client.get(HOME, query).content.decode()
    shown = page_kpis(html)
    args = [a for k, v in query.items() for a in (f"--{k.replace('_', '-')}", v)]
    expected = cli(*args)
    api = client.get("/api/v1/kpi", query).json()
    assert api == expected
    for key in ("total_receivables", "not_due", "overdue", "dso_countback", "dso_standard", "cei", "disputed",
                "unapplied_cash", "average_days_beyond_terms", "at_risk"):  # fmt: skip
        assert shown[key] == (expected[key] or ""), key
    for a in expected["aging"]:
        assert f'data-bucket="{a["bucket"]}" data-value="{a["amount"]}"' in html


def test_charts_are_drawn_with_drill_down_links(example_ledger, client):
    client.force_login(example_ledger.users["credit_manager"])
    html = client.get(HOME).content.decode()
    for chart in ("chart-aging", "chart-forecast", "chart-dso", "chart-risk"):
        assert f'data-testid="{chart}"' in html
    assert html.count('class="bar') >= 6
    link = re.search(r'<a href="([^"]+)" class="bar-link"><rect class="bar bar-danger"[^>]*data-value="1000.00"', html)
    assert link, "the 91-180 bar links to its documents"
    drill = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert document_numbers(drill) == {"D4", "D5"}  # I3 and I4 are 91-180 days past due


def test_risk_class_drill_down_lists_the_customers(example_ledger, client):
    client.force_login(example_ledger.users["credit_manager"])
    html = client.get(reverse("web:customer_list"), {"risk_class": "D"}).content.decode()
    assert "C2" in html and ">C1<" not in html


def test_collector_dashboard_is_their_portfolio(example_ledger, client):
    client.force_login(example_ledger.users["collector"])
    html = client.get(HOME).content.decode()
    assert page_kpis(html)["total_receivables"] == "1300.00"
    assert 'data-testid="chart-risk"' not in html  # the collector's page has no risk-class chart


def test_exports_follow_filters_and_scope(example_ledger, client):
    client.force_login(example_ledger.users["collector"])
    url = reverse("web:dashboard_export", args=["customers", "csv"])
    rows = list(csv.reader(io.StringIO(client.get(url).content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["company", "customer_ref", "customer_name"]
    assert [r[1] for r in rows[1:]] == ["C1"]  # the collector's only customer
    client.force_login(example_ledger.users["credit_manager"])
    rows = list(csv.reader(io.StringIO(client.get(url, {"company": "UK1"}).content.decode("utf-8-sig"))))
    assert [(r[1], r[-1]) for r in rows[1:]] == [("C2", "700.00")]
    xlsx = client.get(reverse("web:dashboard_export", args=["kpi", "xlsx"]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    fc = client.get(reverse("web:dashboard_export", args=["forecast", "csv"])).content.decode("utf-8-sig")
    assert fc.count("\nweek,") == 13 and fc.count("\nmonth,") == 6


def test_a_bad_filter_is_explained_and_the_page_still_shows(example_ledger, client):
    client.force_login(example_ledger.users["credit_manager"])
    response = client.get(HOME, {"date": "2026-02-30"})
    assert response.status_code == 200
    assert 'data-testid="dashboard-error"' in response.content.decode()
    assert page_kpis(response.content.decode())["total_receivables"] == "2000.00"


def test_unknown_export_is_404(example_ledger, client):
    client.force_login(example_ledger.users["credit_manager"])
    assert client.get("/dashboard/exports/secrets.csv").status_code == 404


@pytest.mark.parametrize("user_key", ["admin", "credit_manager_uk", "agency_manager_par", "collector_alice"])
def test_home_tables_from_the_kpi_cells_equal_the_ledger_queries(world, client, user_key):
    import datetime as dt
    from decimal import Decimal

    from relance.analytics import dashboard, selectors
    from relance.ledger.models import ExchangeRate
    from relance.web import queries

    ExchangeRate.objects.create(date=dt.date(2026, 1, 2), currency="GBP", rate=Decimal("0.85"))
    user = world.users[user_key]
    cells = selectors.kpis(user).cells
    today = dt.date(2026, 6, 30)
    assert dashboard.totals_from_cells(cells) == queries.scope_totals(user, as_of=today)
    for by in ("company", "agency"):
        legacy = sorted(queries.totals_by(user, as_of=today, by=by), key=lambda t: (t.key, t.currency))
        assert sorted(dashboard.totals_from_cells(cells, by), key=lambda t: (t.key, t.currency)) == legacy, by
    client.force_login(user)
    response = client.get(HOME)
    assert response.context["board"] is not None
    assert response.context["totals"] == queries.scope_totals(user, as_of=today)


def test_customer_page_has_its_kpis_charts_and_statement_in_its_own_currency(example_ledger, client):
    led = example_ledger
    client.force_login(led.users["credit_manager"])
    html = client.get(reverse("web:customer_detail", args=[led.customers["gbp"].pk])).content.decode()
    assert 'data-testid="customer-analytics"' in html
    assert "Key figures in GBP" in html
    assert 'data-testid="kpi-total_receivables" data-value="595.00"' in html  # 850 − 85 − 170 GBP
    assert 'data-bucket="91-180" data-value="595.00"' in html
    assert 'data-testid="chart-behaviour"' in html and 'data-testid="chart-customer-forecast"' in html
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(reverse("web:customer_statement", args=[led.customers["gbp"].pk, "csv"])).content.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert rows[0][-1] == "balance_gbp"
    assert [(r[2], r[6], r[8], r[9]) for r in rows[1:]] == [
        ("D5", "595.00", "91-180", "595.00"),
        ("P4", "-170.00", "", "425.00"),
    ]


def test_statement_of_a_customer_outside_the_scope_is_404(example_ledger, client):
    client.force_login(example_ledger.users["collector"])
    url = reverse("web:customer_statement", args=[example_ledger.customers["gbp"].pk, "csv"])
    assert client.get(url).status_code == 404
