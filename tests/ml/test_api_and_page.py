"""Predictions and payer profiles seen from the outside: the API and the customer page, for every role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from relance.api.problems import NOT_FOUND
from relance.ml import services
from relance.ml.models import InvoicePrediction
from tests.api.conftest import ApiClient, assert_problem, token_for
from tests.conftest import EXPECTED_SCOPE

from .helpers import invoices, monthly

USERS = sorted(EXPECTED_SCOPE)
TODAY = dt.date(2026, 6, 30)


@pytest.fixture
def predicted(world):
    """Each world customer paid 20 invoices about 25 days late; the daily cycle has run."""
    for customer in world.customers.values():
        # the last four are paid after TODAY: unknown on TODAY
        invoices(customer, monthly(dt.date(2025, 10, 1), 20, lambda i: 22 + i % 7))
    services.daily_cycle(as_of=TODAY, actor="test")
    return world


def test_the_daily_cycle_predicted_every_open_invoice_of_the_world(predicted):
    assert InvoicePrediction.objects.count() == 5
    assert InvoicePrediction.objects.filter(fallback=True).count() == 5  # 100 paid invoices: below MIN_TRAIN


@pytest.mark.parametrize("user_key", USERS)
def test_each_user_reads_the_predictions_and_profiles_of_their_customers_only(predicted, client, user_key):
    api = ApiClient(client, token_for(predicted.users[user_key]))
    visible = predicted.visible_to(user_key)
    for key, customer in predicted.customers.items():
        doc = predicted.documents[key]
        r1 = api.get(f"/documents/{doc.pk}/prediction")
        r2 = api.get(f"/customers/{customer.pk}/payer-profile")
        if key in visible:
            assert r1.status_code == 200, r1.content
            body = r1.json()
            assert body["document_id"] == doc.pk and body["fallback"] is True
            assert body["expected_payment_date"] >= "2026-06-30"  # already 60 days overdue: not before today
            assert body["prob_late"] == 1.0 and body["late_threshold_days"] == 30
            assert "customer mean of 16 past delays" in body["fallback_reason"]
            assert r2.status_code == 200
            assert r2.json()["profile"] == "slow_steady" and r2.json()["features"]["n_settled"] == 16.0
        else:
            assert_problem(r1, 404, NOT_FOUND)
            assert_problem(r2, 404, NOT_FOUND)


def test_a_document_without_prediction_answers_404_with_the_reason(world, client):
    api = ApiClient(client, token_for(world.users["admin"]))
    body = assert_problem(api.get(f"/documents/{world.documents['c_par_alice'].pk}/prediction"), 404)
    assert "has no prediction" in body["detail"]


@pytest.mark.parametrize("user_key", ["admin", "collector_alice", "auditor", "sales_rep_sam"])
def test_the_customer_page_shows_the_profile_and_why(predicted, client: Client, user_key):
    client.force_login(predicted.users[user_key])
    customer = predicted.customers["c_par_alice"]
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="ml"' in html
    section = html[html.index('data-testid="ml"') :]
    assert "Slow but steady" in section and "usually paid 24 days late" in section, section[:1500]
    assert predicted.documents["c_par_alice"].number in html
    assert "customer mean of 16 past delays" in html


def test_the_customer_page_explains_a_model_prediction_in_words(world, client: Client):
    customer = world.customers["c_par_alice"]
    others = [c for k, c in world.customers.items() if k in ("c_lyo_bob", "c_fr_noagency")]
    invoices(customer, monthly(dt.date(2025, 1, 1), 40, lambda i: 40 + i % 9))
    for n, other in enumerate(others):
        invoices(other, monthly(dt.date(2025, 1, 1), 40, lambda i, n=n: n + i % 3))
    assert services.model_train(company=world.fr, as_of=TODAY, max_iter=30).version
    services.predictions_refresh(company=world.fr, as_of=TODAY)
    client.force_login(world.users["admin"])
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "days later" in html and "(usual:" in html  # the top reasons, in words
    assert "Predicted on 2026-06-30 by model FR1-" in html


def test_the_customer_page_in_french(predicted, client: Client):
    client.force_login(predicted.users["admin"])
    customer = predicted.customers["c_par_alice"]
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    assert '<html lang="fr"' in html
    assert "Comportement de paiement et prévisions" in html and "payé en général 24 jours en retard" in html
