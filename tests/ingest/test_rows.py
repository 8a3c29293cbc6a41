"""Parsing values the way real exports write them (pure)."""

import datetime as dt
from decimal import Decimal

import pytest

from relance.ingest.rows import BadValue, Profile, Row, parse_date, parse_decimal, parse_document


@pytest.mark.parametrize(
    "text, expected",
    [("1234.56", "1234.56"), ("1234,56", "1234.56"), ("1 234,56", "1234.56"), ("1\u00a0234,56", "1234.56"),
     ("1.234,56", "1234.56"), ("1,234.56", "1234.56"), ("-12.5", "-12.5"), ("12.50-", "-12.50"),
     ("(12.50)", "-12.50"), ("1'234.50", "1234.50"), ("0", "0")],
)
def test_decimal_comma_or_point_and_thousands_marks(text, expected):
    assert parse_decimal(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "1.2.3", "NaN", "inf"])
def test_what_is_not_an_amount_is_refused(text):
    with pytest.raises(BadValue):
        parse_decimal(text)


def test_a_profile_fixes_the_decimal_separator():
    assert parse_decimal("1.234", Profile(decimal_separator=",")) == Decimal("1234")
    assert parse_decimal("1,234", Profile(decimal_separator=".")) == Decimal("1234")


def test_dates_are_iso_unless_a_profile_says_otherwise():
    assert parse_date("2026-03-01") == dt.date(2026, 3, 1)
    assert parse_date("2026-03-01T00:00:00") == dt.date(2026, 3, 1)
    with pytest.raises(BadValue, match="YYYY-MM-DD"):
        parse_date("01/03/2026")
    assert parse_date("01/03/2026", Profile(date_format="%d/%m/%Y")) == dt.date(2026, 3, 1)


def doc_row(**values):
    raw = {"company": "FR1", "customer_ref": "C1", "number": "F1", "type": "invoice", "issue_date": "2026-03-01",
           "due_date": "2026-03-31", "currency": "EUR", "amount": "120.00", "tax_amount": "20.00"}
    raw.update(values)
    return Row("docs.csv", 7, raw, Profile())


def test_a_good_document_row():
    rec = parse_document(doc_row())
    assert rec.amount == Decimal("120.00") and rec.type == "invoice" and rec.due_date == dt.date(2026, 3, 31)


@pytest.mark.parametrize(
    "values, column, reason",
    [
        ({"amount": "-5"}, "amount", "must be positive"),
        ({"amount": "12,345"}, "amount", "more decimals than EUR allows"),
        ({"currency": "EURO"}, "currency", "ISO 4217"),
        ({"type": "quote"}, "type", "invoice or credit_note"),
        ({"due_date": "2026-02-01"}, "due_date", "before the issue date"),
        ({"issue_date": "31/12/2025"}, "issue_date", "YYYY-MM-DD"),
        ({"number": ""}, "number", "required"),
        ({"tax_amount": "500"}, "tax_amount", "larger than the amount"),
    ],
)
def test_each_error_names_the_file_row_column_and_value(values, column, reason):
    row = doc_row(**values)
    assert parse_document(row) is None
    error = next(e for e in row.errors if e.column == column)
    assert reason in error.reason
    assert str(error).startswith(f"docs.csv: row 7, column {column}")


def test_signed_amounts_profile_turns_negative_amounts_into_credit_notes():
    profile = Profile(sign="amount")
    row = Row("x.csv", 2, {"company": "FR1", "customer_ref": "C1", "number": "A1", "issue_date": "2026-03-01",
                           "due_date": "2026-03-01", "currency": "EUR", "amount": "-50,00", "tax_amount": "-8,33"},
              profile)
    rec = parse_document(row)
    assert rec.type == "credit_note" and rec.amount == Decimal("50.00") and rec.tax_amount == Decimal("8.33")


def test_profile_validation_names_the_bad_key():
    with pytest.raises(ValueError, match="unknown profile keys: colums"):
        Profile.from_dict({"colums": {}})
    with pytest.raises(ValueError, match="type_values"):
        Profile.from_dict({"type_values": {"FA": "bill"}})
