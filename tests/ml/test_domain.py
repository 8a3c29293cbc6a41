"""Pure decisions of the ML app, without a database: fallback ladder, days to dates, payer-profile rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from relance.ml import domain
from relance.ml.domain import Estimate, classify_payer, estimate_from_delays, fallback_estimate, to_dates

DUE = dt.date(2026, 5, 1)


@pytest.mark.parametrize(
    ("customer", "profile", "company", "expected_source", "expected_days"),
    [
        pytest.param([10, 20, 30], [], [], "customer mean of 3 past delays", 20.0, id="customer-with-3-delays"),
        pytest.param([10, 20], [5] * 20, [0] * 40, "same payer profile", 5.0, id="thin-customer-uses-profile"),
        pytest.param([10, 20], [5] * 19, [1] * 40, "company baseline", 1.0, id="thin-profile-uses-company"),
        pytest.param([], [], [1] * 19, "due date (no payment history)", 0.0, id="nothing-uses-due-date"),
    ],
)
def test_the_fallback_ladder_uses_the_first_rung_with_enough_history(
    customer, profile, company, expected_source, expected_days
):
    est = fallback_estimate(customer_delays=customer, profile_delays=profile, company_delays=company, late_days=30)
    assert est.fallback and expected_source in est.reason and est.reason.startswith("no trained model")
    assert est.days_late == pytest.approx(expected_days)


def test_the_probability_is_smoothed_share_above_n_days():
    est = estimate_from_delays([0, 10, 40, 50], late_days=30)
    assert est.prob_late == pytest.approx(2.5 / 5)
    assert est.low == pytest.approx(3.0) and est.high == pytest.approx(47.0)


def test_an_open_invoice_already_late_is_conditioned_on_longer_delays():
    est = estimate_from_delays([0, 5, 10, 40, 60], late_days=30, elapsed=20)
    assert est.days_late == pytest.approx(50.0)  # only 40 and 60 are still possible
    none_longer = estimate_from_delays([0, 5], late_days=30, elapsed=45)
    assert none_longer.days_late == 45 + domain.UNSEEN_MARGIN and none_longer.prob_late == 1.0


@pytest.mark.parametrize(
    ("as_of", "days", "expected", "prob"),
    [
        pytest.param(dt.date(2026, 4, 1), 10, dt.date(2026, 5, 11), 0.3, id="before-due"),
        pytest.param(dt.date(2026, 5, 20), 10, dt.date(2026, 5, 20), 0.3, id="never-before-today"),
        pytest.param(dt.date(2026, 6, 5), 10, dt.date(2026, 6, 5), 1.0, id="more-than-n-days-late-is-certain"),
    ],
)
def test_days_become_dates_never_before_the_prediction_date(as_of, days, expected, prob):
    dated = to_dates(Estimate(days, days - 5, days + 5, 0.3), due_date=DUE, as_of=as_of, late_days=30)
    assert dated.expected_payment_date == expected and dated.prob_late == prob
    assert dated.interval_low <= dated.expected_payment_date <= dated.interval_high
    assert dated.expected_days_late == (expected - DUE).days


def features(**over):
    base = {
        "n_settled": 20.0,
        "median_delay": 0.0,
        "iqr_delay": 4.0,
        "recent_median_delay": 0.0,
        "earlier_median_delay": 0.0,
        "oldest_overdue_days": 0.0,
        "days_since_last_payment": 10.0,
    }
    return {**base, **over}


@pytest.mark.parametrize(
    ("feats", "profile", "rule"),
    [
        pytest.param(features(), "prompt", "usually paid 0 days from the due date", id="prompt"),
        pytest.param(features(median_delay=22), "slow_steady", "usually paid 22 days late", id="slow"),
        pytest.param(features(median_delay=10), "prompt", "usually paid 10 days", id="10-days-is-not-slow"),
        pytest.param(features(iqr_delay=35, median_delay=20), "erratic", "spread over 35 days", id="erratic"),
        pytest.param(
            features(recent_median_delay=40, earlier_median_delay=2, iqr_delay=30),
            "deteriorating",
            "last six payments 40 days late, 38 days later than before",
            id="deteriorating-before-erratic",
        ),
        pytest.param(
            features(recent_median_delay=14, earlier_median_delay=-5), "prompt", "", id="recent-jump-but-not-late"
        ),
        pytest.param(
            features(oldest_overdue_days=90, days_since_last_payment=60),
            "defaulting",
            "an invoice 90 days overdue and no payment for 60 days",
            id="defaulting",
        ),
        pytest.param(
            features(oldest_overdue_days=90, days_since_last_payment=20), "prompt", "", id="still-paying-is-not-default"
        ),
        pytest.param(
            features(n_settled=0, oldest_overdue_days=61, days_since_last_payment=9999),
            "defaulting",
            "no payment ever",
            id="never-paid-defaulting",
        ),
        pytest.param(features(n_settled=2), "", "only 2 invoices paid so far", id="too-little-history"),
    ],
)
def test_payer_profile_rules(feats, profile, rule):
    decision = classify_payer(feats)
    assert decision.profile == profile
    assert rule in decision.rule


@pytest.mark.parametrize(
    ("feature", "value", "reference", "days", "text"),
    [
        ("mean_delay", 28.4, 2.0, 12.26, "average past delay: 28 days (usual: 2 days), 12 days later"),
        ("share_late", 0.5, 0.0, 7.0, "share of past invoices paid very late: 50 % (usual: 0 %), 7 days later"),
        ("trend", 3.04159, 0.0, -2.0, "trend of the delays (days per month): 3.0 (usual: 0), 2 days earlier"),
        ("days_since_last_payment", 9999.0, 12.0, 30.0, "days since the last payment: never paid (usual: 12 days)"),
    ],
)
def test_reasons_read_as_words(feature, value, reference, days, text):
    from relance.ml.labels import describe
    from relance.ml.selectors import Reason

    with translation.override("en"):  # whatever language an earlier test left active
        assert describe(Reason(feature, value, reference, days)).startswith(text)
    with translation.override("fr"):
        assert "habituel" in describe(Reason(feature, value, reference, days))


def test_an_estimate_not_beyond_the_current_lateness_moves_past_it():
    moved = domain.beyond_elapsed(Estimate(20, 5, 40, 0.9), elapsed=60)
    assert (moved.days_late, moved.low, moved.high) == (60 + domain.UNSEEN_MARGIN, 60, 60 + 2 * domain.UNSEEN_MARGIN)
    kept = domain.beyond_elapsed(Estimate(80, 5, 120, 0.9), elapsed=60)
    assert (kept.days_late, kept.low, kept.high) == (80, 60, 120)
    assert domain.beyond_elapsed(Estimate(3, -2, 9, 0.1), elapsed=-10) == Estimate(3, -2, 9, 0.1)
