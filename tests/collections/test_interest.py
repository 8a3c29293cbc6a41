"""Late-payment interest, pure: period by period, partial payments, never twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from relance.ledger.domain import half_year_start, late_interest, rate_in_force

POLICY = [(dt.date(2025, 6, 11), D("2.15")), (dt.date(2026, 2, 1), D("3.00"))]


def statutory(day):
    return rate_in_force(POLICY, half_year_start(day)) + 10


def total(lines):
    return sum((x.amount for x in lines), D(0))


def test_a_rate_per_half_year_fixed_on_its_first_day():
    assert statutory(dt.date(2026, 3, 1)) == D("12.15")  # the February change waits for 1 July
    assert statutory(dt.date(2026, 7, 1)) == D("13.00")


def test_interest_split_at_the_half_year():
    lines = late_interest(
        due_date=dt.date(2026, 6, 20), amount=D("1000"), settlements=[], until=dt.date(2026, 7, 10), rate_for=statutory
    )
    assert [(x.period_from, x.period_to, x.days, x.rate) for x in lines] == [
        (dt.date(2026, 6, 21), dt.date(2026, 6, 30), 10, D("12.15")),
        (dt.date(2026, 7, 1), dt.date(2026, 7, 10), 10, D("13.00")),
    ]
    assert round(total(lines), 2) == round(D("1000") * (D("12.15") + D("13")) / 100 * 10 / 365, 2)


def test_partial_payments_reduce_the_base_from_the_next_day():
    lines = late_interest(
        due_date=dt.date(2026, 1, 31),
        amount=D("1000"),
        settlements=[(dt.date(2026, 2, 10), D("600")), (dt.date(2026, 2, 20), D("400"))],
        until=dt.date(2026, 3, 31),
        rate_for=lambda d: D("10"),
    )
    assert [(x.days, x.base) for x in lines] == [(10, D("1000")), (10, D("400"))]


def test_days_already_claimed_are_not_claimed_again():
    lines = late_interest(
        due_date=dt.date(2026, 1, 31),
        amount=D("1000"),
        settlements=[],
        until=dt.date(2026, 2, 28),
        rate_for=lambda d: D("10"),
        claimed_through=dt.date(2026, 2, 20),
    )
    assert [(x.period_from, x.days) for x in lines] == [(dt.date(2026, 2, 21), 8)]


def test_nothing_before_or_on_the_due_date():
    assert (
        late_interest(
            due_date=dt.date(2026, 1, 31),
            amount=D("1"),
            settlements=[],
            until=dt.date(2026, 1, 31),
            rate_for=lambda d: D("10"),
        )
        == []
    )


def test_no_rate_loaded_is_a_clear_error():
    with pytest.raises(LookupError, match="relance rates load --kind policy"):
        rate_in_force([], dt.date(2026, 1, 1))


def test_contractual_rate_floored_at_three_times_the_legal_rate(world):
    from relance.collections import interest
    from relance.collections.models import CustomerTerms
    from relance.core.vocab import CustomerKind

    cust = world.customers["c_par_alice"]
    CustomerTerms.objects.create(customer=cust, contract_rate=D("5"))
    rate = interest.rate_function(cust)
    assert rate(dt.date(2025, 3, 1)) == D("11.13")  # 3 × 3.71 (2025 H1) > 5
    assert rate(dt.date(2025, 9, 1)) == D("8.28")  # 3 × 2.76
    assert rate(dt.date(2026, 3, 1)) == D("7.86")  # 3 × 2.62 (2026 H1)
    CustomerTerms.objects.filter(customer=cust).update(contract_rate=D("15"))
    assert interest.rate_function(cust)(dt.date(2025, 9, 1)) == D("15")
    cust.kind = CustomerKind.CONSUMER
    assert interest.rate_function(cust) is None
