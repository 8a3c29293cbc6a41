"""KPI formulas without the database, against the hand-computed example of docs/kpi.md."""

import datetime as dt
from decimal import Decimal as D

import pytest

from relance.analytics import domain
from relance.ledger.domain import buckets_from_bounds

from .example import ALLOCS, AS_OF, DOCS, PAYMENTS, RATES


def kpis(as_of=AS_OF, **kw):
    return domain.reference_kpis(DOCS, ALLOCS, PAYMENTS, as_of=as_of, currency="EUR", rates=RATES, **kw)


def test_aged_balance_in_the_group_currency_with_a_partial_payment_a_credit_note_and_two_currencies():
    k = kpis()
    assert [(a.bucket, a.min_days, a.max_days, a.amount) for a in k.aging] == [
        ("not_due", None, 0, D("500.00")),
        ("1-30", 1, 30, D("500.00")),  # 600 left of I1, less the unapplied credit note C1
        ("31-60", 31, 60, D("0.00")),
        ("61-90", 61, 90, D("0.00")),
        ("91-180", 91, 180, D("1000.00")),  # I3 reopened by the reversal, 595 GBP of I4 = 700 EUR
        ("181+", 181, None, D("0.00")),
    ]
    assert (k.total_receivables, k.not_due, k.overdue) == (D("2000.00"), D("500.00"), D("1500.00"))
    assert k.overdue_invoices == 3


def test_configurable_buckets():
    k = kpis(buckets=buckets_from_bounds([60, 120]))
    assert [(a.bucket, a.amount) for a in k.aging] == [
        ("not_due", D("500.00")),
        ("1-60", D("500.00")),
        ("61-120", D("700.00")),
        ("121+", D("300.00")),
    ]


def test_dso_standard_and_countback():
    k = kpis()
    assert k.sales_90 == D("1300.00")  # 1000 + 500 − 100 − 85 GBP (100 EUR)
    assert k.dso_standard == D("138.5")  # 2000 / 1300 × 90
    assert k.dso_countback == D("109.6")  # June 400, May 1000, April −100 (whole month), 600/1000 of March


def test_average_days_of_payment_and_beyond_terms_weighted_by_amount_without_reversed_payments():
    k = kpis()
    assert k.average_days_of_payment == D("43.3")  # (400 × 40 + 200 × 50) / 600
    assert k.average_days_beyond_terms == D("13.3")  # (400 × 10 + 200 × 20) / 600


def test_cei_and_collection_rate_of_the_last_30_days():
    k = kpis()
    assert k.collected == D("400.00")
    assert k.cei == D("21.1")  # (2000 + 400 − 2000) / (2000 + 400 − 500) × 100
    assert k.collection_rate == D("16.7")  # 400 / (2000 + 400) × 100


def test_cash_disputes_risk_classes():
    k = kpis()
    assert k.unapplied_cash == D("600.00")  # P3 was returned: not cash to apply
    assert k.deposits == D("200.00")
    assert k.disputed == D("500.00")  # I1's dispute was resolved on 06-20
    assert k.by_risk_class == {"B": D("1300.00"), "D": D("700.00")}
    assert k.at_risk == D("1000.00")  # class D, and I3 more than 90 days past due


def test_insured_is_capped_by_the_balance():
    k = kpis(insured_limits={1: ("EUR", D("5000.00")), 2: ("GBP", D("340.00"))})
    assert k.insured == D("1700.00")  # 1300 EUR (whole balance) + 340 GBP (the cover)


@pytest.mark.parametrize(
    "day, total, buckets",
    [
        (dt.date(2026, 3, 10), D("1000.00"), {"not_due": D("1000.00")}),  # I3 settled by P3 until the reversal
        (dt.date(2026, 3, 20), D("1300.00"), {"not_due": D("1000.00"), "31-60": D("300.00")}),
        (
            dt.date(2026, 6, 15),
            D("2100.00"),
            {"not_due": D("500.00"), "1-30": D("600.00"), "61-90": D("700.00"), "91-180": D("300.00")},
        ),
    ],
    ids=["before-the-return", "after-the-return", "mid-june"],
)
def test_any_past_date_from_documents_and_dated_allocations(day, total, buckets):
    k = kpis(as_of=day)
    assert k.total_receivables == total
    assert {a.bucket: a.amount for a in k.aging if a.amount} == buckets


def test_disputed_at_a_past_date():
    assert kpis(as_of=dt.date(2026, 6, 15)).disputed == D("600.00")


@pytest.mark.parametrize(
    "receivables, periods, expected",
    [
        (D("100"), [(30, D("300"))], D("10.0")),
        (D("450"), [(30, D("300")), (31, D("310"))], D("45.0")),
        (D("0"), [(30, D("300"))], D("0.0")),
        (D("1000"), [(30, D("300")), (31, D("310"))], D("61.0")),
    ],
    ids=["within-the-month", "into-the-previous-month", "nothing-open", "beyond-the-history"],
)
def test_countback(receivables, periods, expected):
    assert domain.dso_countback(receivables, periods) == expected


def test_ratios_without_a_base_are_none():
    assert domain.dso_standard(D("100"), D("0")) is None
    assert domain.cei(D("0"), D("0"), D("0"), D("0")) is None
    assert domain.collection_rate(D("10"), D("0"), D("0")) is None
    assert domain.weighted_days([]) is None


def test_cei_stays_within_0_and_100():
    assert domain.cei(D("100"), D("0"), D("-50"), D("0")) == D("100.0")


def test_month_ends_and_periods():
    assert domain.month_ends(dt.date(2026, 3, 15), 3) == [
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 15),
    ]
    assert domain.month_periods(dt.date(2026, 3, 15), 2) == [
        (dt.date(2026, 3, 1), dt.date(2026, 3, 15)),
        (dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
    ]
