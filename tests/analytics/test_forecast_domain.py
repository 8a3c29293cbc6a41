"""The cash forecast rules, by hand."""

import datetime as dt
from decimal import Decimal as D

import pytest

from relance.analytics.forecast_domain import Expected, Promised, cash_forecast, forecast_error, likelihood

AS_OF = dt.date(2026, 6, 30)  # week 0 = 07-01..07-07, week 1 = 07-08..07-14, ...


def week(fc, k):
    return fc.weeks[k][2]


def test_due_dates_moved_by_the_customer_delay():
    fc = cash_forecast(
        [
            Expected(D("100"), dt.date(2026, 7, 3)),  # no delay: week 0
            Expected(D("200"), dt.date(2026, 7, 3), delay_days=10),  # 07-13: week 1
            Expected(D("50"), dt.date(2026, 6, 25), delay_days=14),  # past due, expected 07-09: week 1
        ],
        [],
        as_of=AS_OF,
    )
    assert (week(fc, 0), week(fc, 1), week(fc, 2)) == (D("100"), D("250"), D("0"))
    assert fc.weeks[0][:2] == (dt.date(2026, 7, 1), dt.date(2026, 7, 7))
    assert fc.months[0] == (dt.date(2026, 7, 1), dt.date(2026, 7, 31), D("350"))


def test_overdue_amounts_spread_by_likelihood_over_four_weeks():
    fc = cash_forecast(
        [
            Expected(D("1000"), dt.date(2026, 6, 10)),  # 20 days past due: 90 % → 900
            Expected(D("400"), dt.date(2026, 1, 1)),  # 180 days: 40 % → 160
            Expected(D("999"), dt.date(2026, 6, 1), risk_class="X"),  # insolvency: nothing
        ],
        [],
        as_of=AS_OF,
    )
    assert fc.uncertain == D("1060")
    assert [week(fc, k) for k in range(5)] == [D("265"), D("265"), D("265"), D("265"), D("0")]


def test_promises_first_on_their_date_and_a_passed_promise_next_day():
    fc = cash_forecast(
        [], [Promised(D("300"), dt.date(2026, 7, 20)), Promised(D("80"), dt.date(2026, 6, 20))], as_of=AS_OF
    )
    assert (week(fc, 0), week(fc, 2)) == (D("80"), D("300"))
    assert fc.promised == D("380")


def test_predicted_date_wins_and_beyond_the_horizon_is_later():
    fc = cash_forecast(
        [
            Expected(D("10"), dt.date(2026, 7, 3), delay_days=30, predicted_date=dt.date(2026, 7, 2)),
            Expected(D("70"), dt.date(2027, 3, 1)),
        ],
        [],
        as_of=AS_OF,
    )
    assert week(fc, 0) == D("10")
    assert fc.later == D("70")
    assert len(fc.weeks) == 13 and len(fc.months) == 6
    assert fc.months[-1][:2] == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))


@pytest.mark.parametrize("days, p", [(1, "0.90"), (31, "0.75"), (90, "0.60"), (91, "0.40"), (400, "0.15")])
def test_likelihood_by_days_past_due(days, p):
    assert likelihood(days) == D(p)


def test_forecast_error():
    e = forecast_error([D("110"), D("80")], [D("100"), D("100")])
    assert e == {"mae": D("15"), "wape": D("15")}
