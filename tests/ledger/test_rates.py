"""ECB reference rates: parsing, loading (idempotent, all or nothing), conversion."""

import datetime as dt
from decimal import Decimal

import pytest

from relance.core import errors
from relance.core.money import Money
from relance.ledger import rates
from relance.ledger.models import ExchangeRate

HIST = """Date,USD,JPY,GBP,CYP,
2024-01-05,1.0921,158.13,0.86045,N/A,
2024-01-04,1.0953,157.99,0.86220,N/A,
"""
DAILY = """Date, USD, JPY, GBP,
22 November 2024, 1.0463, 161.61, 0.83280,
"""


def test_both_ecb_layouts_parse():
    hist = list(rates.parse_ecb_csv(HIST))
    assert rates.Rate(dt.date(2024, 1, 5), "GBP", Decimal("0.86045")) in hist
    assert not [r for r in hist if r.currency == "CYP"]
    daily = list(rates.parse_ecb_csv(DAILY))
    assert daily[0] == rates.Rate(dt.date(2024, 11, 22), "USD", Decimal("1.0463"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("Day,USD\n2024-01-01,1\n", "row 1"),
        ("Date,USD\n2024-13-01,1\n", "row 2, column Date"),
        ("Date,USD\n2024-01-01,abc\n", "row 2, column USD"),
        ("Date,ZZZ\n", "not a currency"),
    ],
)
def test_errors_name_the_file_row_and_column(text, message):
    with pytest.raises(errors.ValidationError, match=message) as exc:
        list(rates.parse_ecb_csv(text, filename="rates.csv"))
    assert "rates.csv" in exc.value.message


def test_loading_twice_changes_nothing_and_conversion_uses_the_latest_rate(db, tmp_path):
    path = tmp_path / "eurofxref-hist.csv"
    path.write_text(HIST)
    assert rates.rates_load(actor="test", path=path) == {"read": 6, "created": 6, "updated": 0}
    assert rates.rates_load(actor="test", path=path) == {"read": 6, "created": 0, "updated": 0}
    assert ExchangeRate.objects.count() == 6
    # A Saturday uses Friday's rate; GBP -> USD crosses through the euro.
    assert rates.convert(Money.of("100.00", "EUR"), "GBP", dt.date(2024, 1, 6)) == Money.of("86.05", "GBP")
    assert rates.convert(Money.of("86.045", "GBP"), "USD", dt.date(2024, 1, 5)) == Money.of("109.21", "USD")
    with pytest.raises(rates.RateMissing, match="relance rates load"):
        rates.convert(Money.of("1", "EUR"), "GBP", dt.date(2023, 12, 31))


def test_a_bad_file_loads_nothing(db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(HIST + "2024-01-03,oops,1,1,\n")
    with pytest.raises(errors.ValidationError, match="row 4"):
        rates.rates_load(actor="test", path=path)
    assert ExchangeRate.objects.count() == 0
