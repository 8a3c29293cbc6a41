"""Every role sees exactly its scope in the KPIs, from the outside: the API, the dashboard and the exports."""

import csv
import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.urls import reverse

from relance.ledger.models import ExchangeRate
from tests.conftest import EXPECTED_SCOPE

UNIDENTIFIED_EUR = {"admin", "credit_manager", "auditor"}  # company- or group-wide scopes see unidentified cash


def expected(world, user_key):
    """Each world customer has one 1,200 invoice (60 days past due) and 100 of unapplied cash, in its company's
    currency; 1 EUR = 0.85 GBP; the unidentified payment (FR1, EUR) is seen at company or group level."""
    keys = EXPECTED_SCOPE[user_key]
    n_eur = sum(1 for k in keys if world.customers[k].company.currency == "EUR")
    n_gbp = len(keys) - n_eur
    gbp = lambda amount: (amount / D("0.85")).quantize(D("0.01"))  # noqa: E731
    total = D(1200) * n_eur + gbp(D(1200) * n_gbp)
    cash = D(100) * n_eur + gbp(D(100) * n_gbp) + (world.unidentified.amount if user_key in UNIDENTIFIED_EUR else 0)
    return total.quantize(D("0.01")), D(cash).quantize(D("0.01"))


@pytest.fixture
def rated_world(world):
    ExchangeRate.objects.create(date=dt.date(2026, 1, 2), currency="GBP", rate=D("0.85"))
    return world


@pytest.mark.parametrize("user_key", sorted(EXPECTED_SCOPE))
def test_each_role_sees_its_scope_in_the_api_the_page_and_the_export(rated_world, client, user_key):
    world = rated_world
    client.force_login(world.users[user_key])
    total, cash = expected(world, user_key)
    data = client.get("/api/v1/kpi").json()
    assert (D(data["total_receivables"]), D(data["unapplied_cash"])) == (total, cash)
    assert D(data["overdue"]) == total  # every invoice is due 05-01
    html = client.get(reverse("web:home")).content.decode()
    assert f'data-testid="kpi-total_receivables" data-value="{total}"' in html
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(reverse("web:dashboard_export", args=["customers", "csv"])).content.decode("utf-8-sig")
            )
        )
    )
    assert {r[1] for r in rows[1:]} == {world.customers[k].reference for k in EXPECTED_SCOPE[user_key]}
