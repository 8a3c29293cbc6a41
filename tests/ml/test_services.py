"""The daily ML cycle: payer profiles, model training, predictions of open invoices, the selector contract."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os

import pytest

from relance.core.models import AuditEntry
from relance.core.vocab import PayerProfile
from relance.ledger.models import Customer
from relance.ml import selectors, services, store
from relance.ml.jobs import ml_daily
from relance.ml.models import InvoicePrediction, ModelVersion, PayerFeatures
from tests.factories import CompanyFactory, CustomerFactory

from .helpers import invoices, monthly

TODAY = dt.date(2026, 6, 30)
START = dt.date(2025, 6, 1)


@pytest.fixture
def small(db):
    company = CompanyFactory(code="ML1")
    slow = CustomerFactory(company=company, reference="SLOW")
    prompt = CustomerFactory(company=company, reference="PROMPT")
    new = CustomerFactory(company=company, reference="NEW")
    invoices(slow, monthly(START, 20, lambda i: 20 + i % 5))
    invoices(prompt, monthly(START, 20, lambda i: i % 3 - 1))
    open_slow = invoices(slow, [(TODAY - dt.timedelta(days=10), 30, None, "500.00")], prefix="O")[0]
    open_new = invoices(new, [(TODAY - dt.timedelta(days=5), 30, None, "700.00")], prefix="O")[0]
    return company, slow, prompt, new, open_slow, open_new


def test_without_enough_history_the_fallback_is_used_and_said(small):
    company, slow, prompt, new, open_slow, open_new = small
    result = services.predictions_refresh(company=company, as_of=TODAY)
    assert result == {"predicted": 2, "fallback": 2, "model": None}
    got = selectors.predictions([open_slow.pk, open_new.pk, 999_999])
    assert set(got) == {open_slow.pk, open_new.pk}
    p = got[open_slow.pk]
    assert dataclasses.is_dataclass(p) and p.fallback
    assert "customer mean of 20 past delays" in p.fallback_reason
    # past delays 20..24 days, mean 22: due date + 22 days
    assert p.expected_payment_date == open_slow.due_date + dt.timedelta(days=22)
    assert p.interval_low <= p.expected_payment_date <= p.interval_high
    assert p.prob_late == pytest.approx(0.5 / 21)
    assert p.late_threshold_days == 30 and p.model_version == "fallback"
    q = got[open_new.pk]
    assert "company baseline" in q.fallback_reason  # 40 paid invoices of the company; none of the customer's


def test_refreshing_twice_replaces_the_predictions(small):
    company, *_ = small
    services.predictions_refresh(company=company, as_of=TODAY)
    services.predictions_refresh(company=company, as_of=TODAY + dt.timedelta(days=1))
    assert InvoicePrediction.objects.filter(company=company).count() == 2
    assert set(InvoicePrediction.objects.values_list("as_of", flat=True)) == {TODAY + dt.timedelta(days=1)}


def test_an_invoice_more_than_n_days_past_due_is_certainly_late(small, settings):
    company, slow, *_ = small
    old = invoices(slow, [(TODAY - dt.timedelta(days=100), 30, None, "900.00")], prefix="X")[0]
    services.predictions_refresh(company=company, as_of=TODAY)
    p = selectors.predictions([old.pk])[old.pk]
    assert p.prob_late == 1.0
    assert p.expected_payment_date >= TODAY


def test_profiles_are_written_to_the_customer_with_their_features(small):
    company, slow, prompt, new, *_ = small
    result = services.profiles_refresh(company=company, as_of=TODAY, actor="test")
    assert result["customers"] == 3
    slow.refresh_from_db()
    prompt.refresh_from_db()
    new.refresh_from_db()
    assert slow.payer_profile == PayerProfile.SLOW_STEADY
    assert prompt.payer_profile == PayerProfile.PROMPT
    assert new.payer_profile == ""
    view = selectors.payer_profile(slow.pk)
    assert view.profile == PayerProfile.SLOW_STEADY and view.features["median_delay"] == 22.0
    assert "usually paid 22 days late" in view.rule
    assert AuditEntry.objects.filter(action="ml.payer_profile_changed", customer_id=slow.pk).count() == 1
    services.profiles_refresh(company=company, as_of=TODAY, actor="test")  # nothing changes the second time
    assert AuditEntry.objects.filter(action="ml.payer_profile_changed", customer_id=slow.pk).count() == 1
    assert PayerFeatures.objects.filter(company=company).count() == 3


def test_training_writes_a_versioned_model_file_used_by_the_next_predictions(small):
    company, slow, prompt, new, open_slow, _ = small
    for k in range(4):
        extra = CustomerFactory(company=company, reference=f"EXTRA{k}")
        invoices(extra, monthly(START, 20, lambda i, k=k: 5 * k + i % 4))
    result = services.model_train(company=company, as_of=TODAY, max_iter=20)
    assert result.version.startswith("ML1-") and result.n_settled == 120
    row = ModelVersion.objects.get(version=result.version)
    assert row.active and row.trained_on == TODAY and "mae_days" in row.metrics
    assert store.load(row) is not None
    services.predictions_refresh(company=company, as_of=TODAY)
    p = selectors.predictions([open_slow.pk])[open_slow.pk]
    assert not p.fallback and p.model_version == result.version
    assert 10 <= p.expected_days_late <= 30  # a slow payer (20-24 days late), not the prompt ones
    # a second training keeps the first file listed, inactive
    second = services.model_train(company=company, as_of=TODAY + dt.timedelta(days=1), max_iter=20)
    assert ModelVersion.objects.filter(company=company).count() == 2
    assert ModelVersion.objects.get(active=True).version == second.version


def test_the_daily_job_covers_every_company(small):
    company, *_ = small
    result = ml_daily(TODAY)
    assert result["ML1"]["predictions"]["predicted"] == 2
    assert "train" in result["ML1"]  # no model yet: training attempted (too little history: no file)
    assert result["ML1"]["train"]["version"] == "" and "fallback" in result["ML1"]["train"]["fallback_reason"]
    assert Customer.objects.filter(company=company, payer_profile=PayerProfile.SLOW_STEADY).count() == 1


def test_a_missing_model_file_falls_back_and_says_so(small):
    company, slow, prompt, new, open_slow, _ = small
    for k in range(4):
        extra = CustomerFactory(company=company, reference=f"EXTRA{k}")
        invoices(extra, monthly(START, 20, lambda i, k=k: 5 * k + i % 4))
    result = services.model_train(company=company, as_of=TODAY, max_iter=10)
    row = ModelVersion.objects.get(version=result.version)
    os.remove(row.path)
    services.predictions_refresh(company=company, as_of=TODAY)
    p = selectors.predictions([open_slow.pk])[open_slow.pk]
    assert p.fallback and p.model_version == "fallback"
    assert p.fallback_reason.startswith(f"model file {result.version} unreadable: customer mean")


def test_features_of_open_invoices_see_reminders_and_disputes_from_collections(small):
    from relance.collections.models import Activity, Dispute
    from relance.ml import data

    company, slow, _, _, open_slow, _ = small
    Activity.objects.create(
        company=company,
        customer=slow,
        at=dt.datetime(2026, 6, 20, 9, tzinfo=dt.UTC),
        kind="reminder_sent",
        data={"documents": [open_slow.number]},
    )
    dispute = Dispute.objects.create(company=company, customer=slow, reason="price", opened_on=dt.date(2026, 6, 25))
    dispute.documents.add(open_slow)
    facts = {inv.key: inv for inv in data.company_history(company.pk)[slow.pk]}
    assert facts[open_slow.pk].reminders == (dt.date(2026, 6, 20),)
    assert facts[open_slow.pk].disputes == (dt.date(2026, 6, 25),)


def test_too_little_history_keeps_a_profile_set_by_hand(small):
    company, _, _, new, *_ = small
    Customer.objects.filter(pk=new.pk).update(payer_profile=PayerProfile.ERRATIC)
    services.profiles_refresh(company=company, as_of=TODAY)
    new.refresh_from_db()
    assert new.payer_profile == PayerProfile.ERRATIC
    assert (
        selectors.payer_profile(new.pk).profile == "" and "only 0 invoices paid" in selectors.payer_profile(new.pk).rule
    )
