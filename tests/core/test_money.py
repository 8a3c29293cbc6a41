"""Money: Decimal with its currency, never floats, explicit rounding."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.core import errors
from relance.core.money import Money, allocate, from_db, minor_units, quantize, sum_by_currency, validate_currency


def test_money_is_built_from_strings_and_keeps_its_currency():
    m = Money.of("12.30", "eur")
    assert m.amount == Decimal("12.30") and m.currency == "EUR"


def test_floats_are_refused():
    with pytest.raises(errors.ValidationError):
        Money.of(0.1, "EUR")


def test_adding_two_currencies_raises_instead_of_mixing():
    with pytest.raises(errors.ValidationError, match="different currencies"):
        Money.of("1", "EUR") + Money.of("1", "GBP")


def test_comparing_two_currencies_raises():
    with pytest.raises(errors.ValidationError):
        assert Money.of("1", "EUR") < Money.of("2", "USD")


@pytest.mark.parametrize("code", ["EURO", "XYZ", "", None, "12"])
def test_unknown_currency_is_refused_with_the_value_named(code):
    with pytest.raises(errors.ValidationError) as exc:
        validate_currency(code)
    assert exc.value.field == "currency"


@pytest.mark.parametrize("currency, places", [("EUR", 2), ("JPY", 0), ("TND", 3), ("GBP", 2)])
def test_minor_units_follow_iso_4217(currency, places):
    assert minor_units(currency) == places


@pytest.mark.parametrize(
    "amount, currency, expected", [("2.345", "EUR", "2.35"), ("2.344", "EUR", "2.34"), ("1234.5", "JPY", "1235")]
)
def test_rounding_is_half_up_to_the_minor_unit(amount, currency, expected):
    assert quantize(Decimal(amount), currency) == Decimal(expected)


def test_sqlite_float_sums_come_back_exact():
    assert from_db(0.1 + 0.2, "EUR") == Decimal("0.30")
    assert from_db(None, "EUR") == Decimal("0.00")


def test_sum_by_currency_keeps_one_total_per_currency():
    totals = sum_by_currency([Money.of("1.10", "EUR"), Money.of("2", "GBP"), Money.of("3.05", "EUR")])
    assert totals == {"EUR": Money.of("4.15", "EUR"), "GBP": Money.of("2", "GBP")}


@given(
    cents=st.integers(min_value=0, max_value=10**12),
    weights=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=12),
)
def test_allocate_spreads_leftover_cents_and_always_adds_up(cents, weights):
    total = Money(Decimal(cents).scaleb(-2), "EUR")
    parts = allocate(total, [Decimal(w) for w in weights])
    assert sum(p.amount for p in parts) == total.amount
    assert all(p.amount >= 0 for p in parts)
