"""POST /credit-check, POST /orders, the risk fields of customers, and the alert endpoints, per role."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from relance.alerts import services as alerts
from relance.ledger.models import ExchangeRate
from relance.risk import scoring, services
from relance.risk.models import CustomerRisk, Order
from tests.api.conftest import API

AS_OF = dt.date(2026, 6, 30)


def post(api, path, body):
    return api.client.post(API + path, body, content_type="application/json", headers=api.headers())


def check(api, **body):
    base = {"amount": "500.00", "currency": "EUR", "payment_terms_days": 30}
    return post(api, "/credit-check", {**base, **body})


@pytest.fixture
def scored(world):
    scoring.rescore(as_of=AS_OF, full=True)
    return world


def _set(customer, **fields):
    CustomerRisk.objects.filter(customer=customer).update(**fields)


@pytest.mark.parametrize(
    "label, risk, body, decision, deposit",
    [
        ("within the limit", {"risk_class": "B", "granted_limit": Decimal("10000")}, {}, "approve", None),
        ("over the limit by part of the order", {"risk_class": "B", "granted_limit": Decimal("2000")},
         {"amount": "1000.00"}, "approve_with_deposit", 20),
        ("class E", {"risk_class": "E", "granted_limit": Decimal("10000")}, {}, "cash_in_advance", None),
        ("blocked", {"risk_class": "B", "granted_limit": Decimal("10000"), "blocked": True}, {}, "block", None),
        ("insolvency", {"risk_class": "X", "granted_limit": Decimal("10000")}, {}, "block", None),
    ],
)  # fmt: skip
def test_credit_check_outcomes_through_the_api(scored, api_as, label, risk, body, decision, deposit):
    alice = scored.customers["c_par_alice"]  # one open invoice of 1,200.00 EUR (overdue since 2026-05-01)
    _set(alice, **risk)
    response = check(api_as("sales_rep_sam"), customer_id=alice.pk, **body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["decision"], data["deposit_percent"]) == (decision, deposit), label
    assert data["currency"] == "EUR" and data["reasons"]
    expected_after = Decimal("1200.00") + Decimal(body.get("amount", "500.00"))
    assert data["exposure_after"] == str(expected_after)


def test_credit_check_by_reference_and_company_and_in_another_currency(scored, api_as):
    ExchangeRate.objects.create(date=AS_OF, currency="GBP", rate=Decimal("0.85"))
    _set(scored.customers["c_par_alice"], risk_class="A", granted_limit=Decimal("100000"))
    response = check(api_as("admin"), customer_ref="PAR001", company="FR1", amount="850.00", currency="GBP")
    data = response.json()
    assert data["decision"] == "approve" and data["exposure_after"] == "2200.00"


@pytest.mark.parametrize("role", ["collector_bob", "agency_manager_none", "credit_manager_uk"])
def test_credit_check_on_a_customer_outside_the_scope_is_not_found(scored, api_as, role):
    assert check(api_as(role), customer_id=scored.customers["c_par_alice"].pk).status_code == 404


def test_credit_check_refuses_bad_input_as_problems(scored, api_as):
    api = api_as("admin")
    assert check(api, amount="-5", customer_id=scored.customers["c_par_alice"].pk).status_code == 422
    assert check(api).status_code == 422  # nobody named
    response = check(api, customer_id=scored.customers["c_par_alice"].pk, currency="XXQ")
    assert response.status_code == 422 and response["Content-Type"].startswith("application/problem+json")


def test_orders_are_upserted_and_count_in_exposure(scored, api_as):
    api = api_as("admin")
    body = {"company": "FR1", "customer_ref": "PAR001", "reference": "SO-1", "order_date": "2026-06-29",
            "amount": "300.00", "currency": "EUR"}  # fmt: skip
    first = post(api, "/orders", body)
    assert first.status_code == 201 and first.json()["result"] == "created"
    again = post(api, "/orders", body)
    assert again.status_code == 200 and again.json()["result"] == "unchanged"
    assert Order.objects.count() == 1
    customer = api.json(f"/customers/{scored.customers['c_par_alice'].pk}")
    assert customer["exposure"] == "1500.00"


def test_orders_are_refused_to_read_only_and_out_of_scope_users(scored, api_as):
    body = {"company": "FR1", "customer_ref": "PAR001", "reference": "SO-2", "order_date": "2026-06-29",
            "amount": "300.00", "currency": "EUR"}  # fmt: skip
    assert post(api_as("auditor"), "/orders", body).status_code == 403
    assert post(api_as("collector_bob"), "/orders", body).status_code == 404


def test_customers_carry_score_reasons_limits_exposure_and_block(scored, api_as):
    alice = scored.customers["c_par_alice"]
    services.limit_grant(actor=scored.users["credit_manager"], customer=alice, amount="5000")
    items = {c["reference"]: c for c in api_as("admin").items("/customers")}
    row = items["PAR001"]
    risk = CustomerRisk.objects.get(customer=alice)
    assert row["score"] == risk.score and row["risk_class"] == risk.risk_class
    assert row["score_reasons"] and all(isinstance(r, str) for r in row["score_reasons"])
    assert row["credit_limit_granted"] == "5000.00"
    assert row["credit_limit_recommended"] == str(risk.recommended_limit.quantize(Decimal("0.01")))
    assert row["exposure"] == "1200.00" and row["blocked"] is False and row["credit_currency"] == "EUR"
    assert items["UK0001"]["credit_currency"] == "GBP"


def test_the_alert_inbox_follows_the_scope_and_can_be_handled(scored, api_as):
    alice = scored.customers["c_par_alice"]
    alert, _ = alerts.alert_raise(kind="risk.limit_overrun", company=scored.fr, customer=alice, title="Over",
                                  as_of=AS_OF)  # fmt: skip
    assert [a["id"] for a in api_as("collector_alice").items("/alerts")] == [alert.pk]
    assert api_as("collector_bob").items("/alerts") == []
    api = api_as("collector_alice")
    assert post(api, f"/alerts/{alert.pk}/acknowledge", {}).json()["status"] == "acknowledged"
    assert post(api, f"/alerts/{alert.pk}/comments", {"text": "Called them"}).status_code == 201
    assert post(api_as("collector_bob"), f"/alerts/{alert.pk}/acknowledge", {}).status_code == 404
    assert post(api_as("auditor"), f"/alerts/{alert.pk}/acknowledge", {}).status_code == 403
