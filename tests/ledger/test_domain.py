"""Pure ledger rules, without the database."""

import datetime as dt
from decimal import Decimal

import pytest

from relance.core import errors
from relance.ledger import domain
from relance.ledger.domain import DEFAULT_BUCKETS, AllocationRequest, Item

AS_OF = dt.date(2026, 6, 30)


@pytest.mark.parametrize(
    "due, expected",
    [
        (dt.date(2026, 7, 15), "not_due"),
        (AS_OF, "not_due"),
        (dt.date(2026, 6, 29), "1-30"),
        (dt.date(2026, 5, 31), "1-30"),
        (dt.date(2026, 5, 30), "31-60"),
        (dt.date(2026, 4, 1), "61-90"),
        (dt.date(2026, 3, 31), "91-180"),
        (dt.date(2026, 1, 1), "91-180"),
        (dt.date(2025, 12, 31), "181+"),
    ],
)
def test_a_document_falls_in_the_bucket_of_its_days_past_due(due, expected):
    assert domain.bucket_for(due, AS_OF).name == expected


def test_days_overdue_is_zero_before_the_due_date():
    assert domain.days_overdue(dt.date(2026, 7, 1), AS_OF) == 0
    assert domain.days_overdue(dt.date(2026, 6, 1), AS_OF) == 29


def test_custom_bucket_bounds():
    buckets = domain.buckets_from_bounds([15, 45])
    assert [b.name for b in buckets] == ["not_due", "1-15", "16-45", "46+"]
    with pytest.raises(errors.ValidationError):
        domain.buckets_from_bounds([45, 15])


def test_aged_balance_nets_credit_notes_and_keeps_currencies_apart():
    items = [
        Item("F1", "invoice", dt.date(2026, 5, 1), dt.date(2026, 5, 31), "EUR", Decimal("100"), Decimal("100")),
        Item("A1", "credit_note", dt.date(2026, 6, 1), dt.date(2026, 6, 1), "EUR", Decimal("30"), Decimal("30")),
        Item("F2", "invoice", dt.date(2026, 6, 1), dt.date(2026, 7, 1), "GBP", Decimal("50"), Decimal("20")),
        Item("F3", "invoice", dt.date(2026, 1, 1), dt.date(2026, 1, 31), "EUR", Decimal("80"), Decimal("0")),
    ]
    aged = domain.aged_balance(items, AS_OF)
    assert aged["EUR"]["1-30"] == Decimal("70")
    assert aged["GBP"]["not_due"] == Decimal("20")
    assert set(aged["EUR"]) == {b.name for b in DEFAULT_BUCKETS}
    assert sum(aged["EUR"].values()) == Decimal("70")


def _req(**kw):
    base = dict(
        amount=Decimal("50"),
        currency="EUR",
        source_label="payment P1",
        source_currency="EUR",
        source_open=Decimal("100"),
        source_customer=1,
        target_number="F1",
        target_type="invoice",
        target_currency="EUR",
        target_open=Decimal("80"),
        target_customer=1,
    )
    base.update(kw)
    return AllocationRequest(**base)


def test_a_valid_allocation_passes():
    domain.check_allocation(_req())


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"amount": Decimal("90")}, "exceeds the open amount of document F1"),
        ({"source_open": Decimal("40")}, "exceeds what is left of payment P1"),
        ({"amount": Decimal("-5")}, "must be positive"),
        ({"amount": Decimal("0")}, "greater than zero"),
        ({"amount": Decimal("1.005")}, "more decimals"),
        ({"source_currency": "GBP"}, "different currencies"),
        ({"source_customer": 2}, "different customers"),
        ({"target_type": "credit_note"}, "allocated to invoices only"),
    ],
)
def test_allocations_that_break_an_invariant_are_refused(changes, message):
    with pytest.raises(errors.ValidationError, match=message):
        domain.check_allocation(_req(**changes))


def test_due_date_before_issue_date_is_refused():
    with pytest.raises(errors.ValidationError, match="before the issue date"):
        domain.check_dates(dt.date(2026, 2, 1), dt.date(2026, 1, 1))


def test_balance_is_invoices_minus_credit_notes_minus_payments():
    docs = [("invoice", Decimal("100")), ("credit_note", Decimal("20")), ("invoice", Decimal("50"))]
    assert domain.balance(docs, [Decimal("60")]) == Decimal("70")
