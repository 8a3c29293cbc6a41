"""The home page of each role: totals of the scope per currency, then what the role acts on first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.conftest import EXPECTED_SCOPE
from tests.factories import CustomerFactory, DocumentFactory

HOME = reverse("web:home")


def home(client_for, user_key):
    response = client_for(user_key).get(HOME)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("user_key", sorted(EXPECTED_SCOPE))
def test_every_role_gets_a_home_page_counting_only_its_customers(client_for, world, user_key):
    response = home(client_for, user_key)
    assert response.context["customer_count"] == len(EXPECTED_SCOPE[user_key])
    html = response.content.decode()
    for key in set(world.customers) - set(EXPECTED_SCOPE[user_key]):
        assert world.customers[key].name not in html


def test_totals_are_per_currency_and_exact(client_for, world):
    response = home(client_for, "admin")
    totals = {t.currency: t for t in response.context["totals"]}
    assert set(totals) == {"EUR", "GBP"}
    eur = totals["EUR"]
    assert eur.open == Decimal("3600.00") and isinstance(eur.open, Decimal)
    assert eur.overdue == Decimal("3600.00")
    assert eur.overdue_invoices == 3
    assert eur.customers_open == 3
    assert eur.unallocated_cash == Decimal("800.00")  # three customers' 100 + the unidentified 500
    assert totals["GBP"].open == Decimal("2400.00")
    html = response.content.decode()
    assert "€3,600.00" in html and "£2,400.00" in html


def test_sums_are_exact_decimals_even_where_the_database_returns_floats(client_for, world):
    for n, amount in enumerate(["0.10", "0.20", "0.10", "0.70"]):
        DocumentFactory(
            customer=world.customers["c_lyo_bob"],
            number=f"INV-CENTS{n}",
            amount=Decimal(amount),
            tax_amount=Decimal(0),
            issue_date=dt.date(2026, 6, 1),
            due_date=dt.date(2026, 6, 10),
        )
    eur = next(t for t in home(client_for, "collector_bob").context["totals"] if t.currency == "EUR")
    assert eur.open == Decimal("1201.10")
    assert str(eur.open) == "1201.10"


def test_a_collector_sees_their_most_overdue_customers_largest_first(client_for, world):
    alice = world.users["collector_alice"]
    big = CustomerFactory(company=world.fr, reference="BIG001", name="Big Overdue SA", collector=alice)
    DocumentFactory(customer=big, number="INV-BIG", amount=Decimal("9000.00"), issue_date=dt.date(2026, 5, 1))
    response = home(client_for, "collector_alice")
    assert response.context["layout"] == "collector"
    rows = response.context["overdue_customers"]
    assert [r.reference for r in rows] == ["BIG001", "PAR001", "UK0001"]
    assert rows[0].overdue == Decimal("9000.00")
    assert rows[1].days_overdue == 60
    html = response.content.decode()
    assert "Most overdue customers" in html
    assert reverse("web:customer_detail", args=[big.pk]) in html


@pytest.mark.parametrize("user_key", ["sales_rep_sam", "agency_manager_par"])
def test_sales_reps_and_agency_managers_see_their_customers_with_overdue(client_for, world, user_key):
    response = home(client_for, user_key)
    assert response.context["layout"] == "portfolio"
    refs = {r.reference for r in response.context["overdue_customers"]}
    assert refs == {world.customers[k].reference for k in EXPECTED_SCOPE[user_key]}
    assert "My customers with overdue invoices" in response.content.decode()


def test_an_agency_manager_also_sees_figures_by_agency(client_for):
    response = home(client_for, "agency_manager_par")
    assert [(t.key, t.currency) for t in response.context["by_agency"]] == [("PAR", "EUR")]


@pytest.mark.parametrize("user_key", ["admin", "credit_manager", "auditor"])
def test_managers_see_a_table_by_company(client_for, user_key):
    response = home(client_for, user_key)
    assert response.context["layout"] == "manager"
    rows = [(t.key, t.currency, t.open) for t in response.context["by_company"]]
    assert rows == [("FR1", "EUR", Decimal("3600.00")), ("UK1", "GBP", Decimal("2400.00"))]
    assert 'data-testid="totals-by-company"' in response.content.decode()


def test_a_company_scoped_manager_sees_only_their_company(client_for):
    response = home(client_for, "credit_manager_uk")
    assert [t.key for t in response.context["by_company"]] == ["UK1"]
    assert [t.currency for t in response.context["totals"]] == ["GBP"]


def test_a_superuser_gets_the_manager_page(client, world):
    from relance.orgs.models import User

    root = User.objects.create_superuser("root@example.com", "x-secret-123")
    client.force_login(root)
    response = client.get(HOME)
    assert response.context["layout"] == "manager"
    assert response.context["customer_count"] == 5


def test_a_user_with_an_empty_scope_gets_a_calm_empty_page(client_for):
    html = home(client_for, "agency_manager_none").content.decode()
    assert "No open receivables in your scope." in html
    assert "Nothing overdue" in html


def test_the_home_page_runs_a_bounded_number_of_queries(client_for, world, django_assert_max_num_queries):
    # the dashboard (KPIs, trend, forecast, aged customers) is a fixed set of grouped queries, whatever the data
    from relance.ledger.models import ExchangeRate

    ExchangeRate.objects.create(date=dt.date(2026, 1, 2), currency="GBP", rate=Decimal("0.85"))
    client = client_for("credit_manager")
    with django_assert_max_num_queries(60):
        response = client.get(HOME)
    assert response.context["board"] is not None
