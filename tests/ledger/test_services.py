"""Ledger services: validation with clear messages, nothing written on refusal, audit on every change."""

import datetime as dt
from decimal import Decimal

import pytest

from relance.core import errors
from relance.core.models import AuditEntry
from relance.ledger import selectors, services
from relance.ledger.models import Allocation, Customer, Document, LegalEntity, Payment
from tests.factories import AgencyFactory, CompanyFactory

D = dt.date(2026, 3, 1)


@pytest.fixture
def fr(db):
    return CompanyFactory(code="FR1", currency="EUR")


@pytest.fixture
def customer(fr):
    c, _ = services.customer_upsert(
        actor="test", company=fr, reference="C1", name="Acme SAS", country="FR", siren="552100554"
    )
    return c


def invoice(company, customer, number="F1", amount="100.00", **kw):
    doc, _ = services.document_upsert(
        actor="test",
        company=company,
        customer=customer,
        number=number,
        issue_date=D,
        due_date=D + dt.timedelta(days=30),
        currency="EUR",
        amount=amount,
        **kw,
    )
    return doc


def pay(company, customer, reference="P1", amount="100.00", **kw):
    p, _ = services.payment_upsert(
        actor="test",
        company=company,
        customer=customer,
        reference=reference,
        date=D,
        currency="EUR",
        amount=amount,
        **kw,
    )
    return p


class Unchanged:
    """Asserts that a block writes no row in the ledger or the audit trail."""

    models = (Customer, Document, Payment, Allocation, AuditEntry, LegalEntity)

    def __enter__(self):
        self.before = [m.objects.count() for m in self.models]

    def __exit__(self, *exc):
        assert [m.objects.count() for m in self.models] == self.before


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"siren": "552100555"}, "siren", "not a valid SIREN"),
        ({"vat_number": "FR00303265045"}, "vat_number", "not a valid VAT"),
        ({"country": "France"}, "country", "ISO 3166"),
        ({"language": "de"}, "language", "not a supported language"),
        ({"payment_terms_days": "-3"}, "payment_terms_days", "outside 0..365"),
        ({"name": " "}, "name", "cannot be empty"),
        ({"collector": "nobody@example.com"}, "collector", "Unknown user"),
    ],
)
def test_bad_customer_input_is_refused_and_nothing_is_written(fr, fields, field, message):
    data = {"name": "Acme", "country": "FR", **fields}
    with Unchanged(), pytest.raises(errors.ValidationError, match=message) as exc:
        services.customer_upsert(actor="test", company=fr, reference="C9", **data)
    assert exc.value.field == field


def test_an_agency_of_another_company_is_refused(fr):
    other = AgencyFactory(company=CompanyFactory(code="UK1"), code="LDN")
    with Unchanged(), pytest.raises(errors.ValidationError, match="belongs to company UK1"):
        services.customer_upsert(actor="test", company=fr, reference="C9", name="A", country="FR", agency=other)


def test_the_same_siren_in_two_companies_is_one_legal_entity(fr, customer):
    uk = CompanyFactory(code="UK1", currency="GBP", country="GB")
    other, _ = services.customer_upsert(
        actor="test", company=uk, reference="X77", name="ACME", country="FR", vat_number="FR96552100554"
    )
    assert other.legal_entity_id == customer.legal_entity_id
    assert customer.legal_entity.key == "SIREN:552100554"


def test_reimporting_a_customer_unchanged_writes_nothing(fr, customer):
    with Unchanged():
        _, status = services.customer_upsert(
            actor="test", company=fr, reference="C1", name="Acme SAS", country="FR", siren="552100554"
        )
    assert status == "unchanged"


def test_an_update_records_before_and_after(fr, customer):
    services.customer_upsert(actor="test", company=fr, reference="C1", payment_terms_days=45)
    entry = AuditEntry.objects.filter(action="customer.update").get()
    assert entry.changes == {"payment_terms_days": [30, 45]}
    assert entry.customer_id == customer.pk and entry.actor_label == "test"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"amount": "-10"}, "must be positive"),
        ({"amount": "0"}, "greater than zero"),
        ({"amount": "10.001"}, "more decimals"),
        ({"amount": "abc"}, "not a decimal amount"),
        ({"currency": "EURO"}, "Unknown currency"),
        ({"tax_amount": "200"}, "larger than the amount"),
        ({"due_date": "2026-02-01"}, "before the issue date"),
        ({"due_date": "01/04/2026"}, "not a date"),
        ({"type": "quote"}, "not one of"),
    ],
)
def test_bad_documents_are_refused_and_nothing_is_written(fr, customer, kwargs, message):
    data = {"issue_date": D, "due_date": D + dt.timedelta(days=30), "currency": "EUR", "amount": "100.00", **kwargs}
    with Unchanged(), pytest.raises(errors.ValidationError, match=message):
        services.document_upsert(actor="test", company=fr, customer=customer, number="F9", **data)


def test_a_customer_of_another_company_is_refused(fr, customer):
    uk = CompanyFactory(code="UK1", currency="GBP", country="GB")
    with Unchanged(), pytest.raises(errors.ValidationError, match="belongs to company FR1, not UK1"):
        services.document_upsert(
            actor="test",
            company=uk,
            customer=customer,
            number="F9",
            issue_date=D,
            due_date=D,
            currency="GBP",
            amount="1",
        )


def test_partial_payments_leave_the_rest_open_and_settle_on_the_last_one(fr, customer):
    doc = invoice(fr, customer, amount="100.00")
    services.allocation_create(
        actor="test", target=doc, payment=pay(fr, customer, "P1", "40.00"), amount="40.00", date=D
    )
    doc.refresh_from_db()
    assert doc.open_amount == Decimal("60.00") and doc.settled_on is None
    services.allocation_create(
        actor="test",
        target=doc,
        payment=pay(fr, customer, "P2", "60.00"),
        amount="60.00",
        date=D + dt.timedelta(days=5),
    )
    doc.refresh_from_db()
    assert doc.open_amount == 0 and doc.settled_on == D + dt.timedelta(days=5)


def test_one_payment_for_several_invoices(fr, customer):
    a, b = invoice(fr, customer, "F1", "30.00"), invoice(fr, customer, "F2", "70.00")
    p = pay(fr, customer, "P1", "100.00")
    services.allocation_create(actor="test", target=a, payment=p, amount="30.00", date=D)
    services.allocation_create(actor="test", target=b, payment=p, amount="70.00", date=D)
    p.refresh_from_db()
    assert p.unallocated_amount == 0
    assert selectors.check_invariants() == []


def test_allocation_over_the_open_amount_is_refused_and_nothing_is_written(fr, customer):
    doc = invoice(fr, customer, amount="50.00")
    p = pay(fr, customer, amount="100.00")
    with Unchanged(), pytest.raises(errors.ValidationError, match="exceeds the open amount of document F1"):
        services.allocation_create(actor="test", target=doc, payment=p, amount="60.00", date=D)
    doc.refresh_from_db()
    p.refresh_from_db()
    assert doc.open_amount == Decimal("50.00") and p.unallocated_amount == Decimal("100.00")


def test_a_credit_note_settles_the_invoice_it_corrects(fr, customer):
    doc = invoice(fr, customer, amount="120.00")
    cn, _ = services.document_upsert(
        actor="test",
        company=fr,
        customer=customer,
        number="A1",
        type="credit_note",
        issue_date=D,
        due_date=D,
        currency="EUR",
        amount="20.00",
        corrects=doc,
    )
    services.allocation_create(actor="test", target=doc, credit_note=cn, amount="20.00", date=D)
    doc.refresh_from_db()
    cn.refresh_from_db()
    assert doc.open_amount == Decimal("100.00") and cn.open_amount == 0 and cn.settled_on == D


def test_a_credit_note_cannot_be_the_target(fr, customer):
    cn, _ = services.document_upsert(
        actor="test",
        company=fr,
        customer=customer,
        number="A1",
        type="credit_note",
        issue_date=D,
        due_date=D,
        currency="EUR",
        amount="20.00",
    )
    with pytest.raises(errors.ValidationError, match="invoices only"):
        services.allocation_create(actor="test", target=cn, payment=pay(fr, customer), amount="1", date=D)


def test_a_reversal_reopens_the_document_and_cannot_be_repeated(fr, customer):
    doc = invoice(fr, customer, amount="100.00")
    p = pay(fr, customer)
    alloc = services.allocation_create(actor="test", target=doc, payment=p, amount="100.00", date=D)
    reversal = services.allocation_reverse(
        actor="test", allocation=alloc, date=D + dt.timedelta(days=3), reason="returned direct debit"
    )
    doc.refresh_from_db()
    p.refresh_from_db()
    assert reversal.amount == Decimal("-100.00") and reversal.reverses_id == alloc.pk
    assert doc.open_amount == Decimal("100.00") and doc.settled_on is None and p.unallocated_amount == Decimal("100")
    with pytest.raises(errors.ValidationError, match="already been reversed"):
        services.allocation_reverse(actor="test", allocation=alloc, date=D)
    assert Allocation.objects.count() == 2  # append-only: the original stays


def test_a_document_with_allocations_cannot_change_customer_or_shrink_below_what_is_allocated(fr, customer):
    other, _ = services.customer_upsert(actor="test", company=fr, reference="C2", name="Other", country="FR")
    doc = invoice(fr, customer, amount="100.00")
    services.allocation_create(actor="test", target=doc, payment=pay(fr, customer), amount="60.00", date=D)
    with pytest.raises(errors.ValidationError, match="cannot move to customer C2"):
        invoice(fr, other, amount="100.00")
    with pytest.raises(errors.ValidationError, match="cannot become 50.00"):
        invoice(fr, customer, amount="50.00")
    doc = invoice(fr, customer, amount="110.00")
    assert doc.open_amount == Decimal("50.00")


def test_reimporting_a_document_unchanged_is_a_no_op(fr, customer):
    invoice(fr, customer)
    with Unchanged():
        _, status = services.document_upsert(
            actor="test",
            company=fr,
            customer=customer,
            number="F1",
            issue_date=D,
            due_date=D + dt.timedelta(days=30),
            currency="EUR",
            amount="100.00",
        )
    assert status == "unchanged"


def test_a_deposit_is_a_payment_of_kind_deposit(fr, customer):
    deposit = pay(fr, customer, "DEP1", "300.00", kind="deposit")
    doc = invoice(fr, customer, amount="1000.00")
    services.allocation_create(actor="test", target=doc, payment=deposit, amount="300.00", date=D)
    doc.refresh_from_db()
    assert doc.open_amount == Decimal("700.00")


def test_customer_balances_per_currency(fr, customer, world_user=None):
    from tests.factories import UserFactory

    admin = UserFactory(role="admin")
    invoice(fr, customer, "F1", "100.00")
    services.document_upsert(
        actor="test",
        company=fr,
        customer=customer,
        number="F2",
        issue_date=D,
        due_date=D + dt.timedelta(days=200),
        currency="USD",
        amount="50.00",
    )
    pay(fr, customer, "P1", "30.00")
    balances = {b.currency: b for b in selectors.customer_balances(admin, customer, as_of=dt.date(2026, 6, 30))}
    assert balances["EUR"].invoices_open == Decimal("100.00") and balances["EUR"].overdue == Decimal("100.00")
    assert balances["EUR"].net == Decimal("70.00")
    assert balances["USD"].overdue == Decimal("0.00")


def test_a_payment_fully_unapplied_may_move_to_another_customer(fr, customer):
    other, _ = services.customer_upsert(actor="test", company=fr, reference="C2", name="Other", country="FR")
    doc = invoice(fr, customer, amount="100.00")
    p = pay(fr, customer, "P1", "100.00")
    alloc = services.allocation_create(actor="test", target=doc, payment=p, amount="100.00", date=D)
    with pytest.raises(errors.ValidationError, match="cannot change"):
        pay(fr, other, "P1", "100.00")
    services.allocation_reverse(actor="test", allocation=alloc, date=D)
    moved = pay(fr, other, "P1", "100.00")
    assert moved.customer_id == other.pk and moved.unallocated_amount == Decimal("100.00")
    with pytest.raises(errors.ValidationError, match="cannot change"):
        services.payment_upsert(
            actor="test", company=fr, customer=other, reference="P1", date=D, currency="USD", amount="100.00"
        )
    assert selectors.check_invariants() == []
