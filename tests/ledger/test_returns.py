"""Returned payments: the bank sent the money back, so the payment is no longer cash waiting to be applied."""

import datetime as dt
from decimal import Decimal

import pytest

from relance.core import errors
from relance.core.models import AuditEntry
from relance.ledger import selectors, services
from relance.ledger.models import Allocation, Payment
from tests.factories import UserFactory

from .test_services import D, customer, fr, invoice, pay  # noqa: F401 - fixtures

RETURNED = D + dt.timedelta(days=5)


def test_returning_a_payment_reverses_its_allocations_and_marks_it_returned(fr, customer):  # noqa: F811
    doc = invoice(fr, customer, amount="100.00")
    p = pay(fr, customer, "P1", "150.00")
    services.allocation_create(actor="test", target=doc, payment=p, amount="100.00", date=D)
    returned = services.payment_return(actor="test", payment=p, date=RETURNED, reason="AC06 account blocked")
    doc.refresh_from_db()
    p.refresh_from_db()
    assert returned.returned_on == RETURNED and p.returned_on == RETURNED
    assert doc.open_amount == Decimal("100.00") and doc.settled_on is None
    assert p.unallocated_amount == Decimal("150.00")  # the derived amount stays exact
    reversal = Allocation.objects.get(reverses__isnull=False)
    assert reversal.amount == Decimal("-100.00") and reversal.date == RETURNED
    entry = AuditEntry.objects.get(action="payment.return")
    assert entry.message == "AC06 account blocked" and entry.changes["returned_on"] == RETURNED.isoformat()
    assert entry.changes["reversals"] == [reversal.pk]
    assert selectors.check_invariants() == []


def test_a_returned_payment_cannot_be_allocated_nor_returned_twice(fr, customer):  # noqa: F811
    doc = invoice(fr, customer, amount="100.00")
    p = pay(fr, customer, "P1", "100.00")
    services.payment_return(actor="test", payment=p, date=RETURNED)
    with pytest.raises(errors.ValidationError, match="returned by the bank on 2026-03-06: it cannot be allocated"):
        services.allocation_create(actor="test", target=doc, payment=p, amount="10.00", date=RETURNED)
    with pytest.raises(errors.ValidationError, match="already returned"):
        services.payment_return(actor="test", payment=p, date=RETURNED)
    assert not Allocation.objects.exists()


def test_a_returned_payment_is_not_unallocated_cash(fr, customer):  # noqa: F811
    admin = UserFactory(role="admin")
    invoice(fr, customer, "F1", "100.00")
    kept = pay(fr, customer, "P1", "30.00")
    gone = pay(fr, customer, "P2", "70.00")
    services.payment_return(actor="test", payment=gone, date=RETURNED)
    listed = selectors.payments(admin, selectors.PaymentFilters(unallocated=True))
    assert list(listed) == [kept]
    assert set(selectors.payments(admin)) == {kept, gone}  # still listed among payments
    (balance,) = selectors.customer_balances(admin, customer, as_of=dt.date(2026, 6, 30))
    assert balance.unallocated_cash == Decimal("30.00") and balance.net == Decimal("70.00")


def test_home_and_customer_figures_leave_returned_payments_out(fr, customer):  # noqa: F811
    from relance.web import queries

    admin = UserFactory(role="admin")
    invoice(fr, customer, "F1", "100.00")
    pay(fr, customer, "P1", "30.00")
    services.payment_return(actor="test", payment=pay(fr, customer, "P2", "70.00"), date=RETURNED)
    (totals,) = queries.scope_totals(admin, as_of=dt.date(2026, 6, 30))
    assert totals.unallocated_cash == Decimal("30.00")
    (by_company,) = queries.totals_by(admin, as_of=dt.date(2026, 6, 30), by="company")
    assert by_company.unallocated_cash == Decimal("30.00")
    (figures,) = queries.customer_figures(admin, [customer.pk], as_of=dt.date(2026, 6, 30))[customer.pk].figures
    assert figures.balance == Decimal("70.00")  # 100 open − 30 unallocated; the 70 returned is not cash


def test_only_returned_cash_left_means_no_unallocated_cash_row(fr, customer):  # noqa: F811
    from relance.web import queries

    admin = UserFactory(role="admin")
    services.payment_return(actor="test", payment=pay(fr, customer, "P2", "70.00"), date=RETURNED)
    assert queries.scope_totals(admin, as_of=dt.date(2026, 6, 30)) == []
    assert selectors.customer_balances(admin, customer, as_of=dt.date(2026, 6, 30)) == []


def test_the_invariant_check_reports_live_allocations_of_a_returned_payment(fr, customer):  # noqa: F811
    doc = invoice(fr, customer, amount="100.00")
    p = pay(fr, customer, "P1", "100.00")
    services.allocation_create(actor="test", target=doc, payment=p, amount="100.00", date=D)
    Payment.objects.filter(pk=p.pk).update(returned_on=RETURNED)  # behind the services' back
    assert selectors.check_invariants() == ["1 live allocations of returned payments"]
