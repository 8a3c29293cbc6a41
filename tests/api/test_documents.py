"""GET /documents and /documents/{id}: amounts as strings, filters, allocations."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from relance.core.vocab import DocumentType
from relance.ledger import services
from relance.ledger.models import Document
from tests.factories import DocumentFactory

DECIMAL_2 = re.compile(r"^-?\d+\.\d{2}$")


@pytest.fixture
def admin(world, api_as):
    return api_as("admin")


def ids(api, params=None):
    return {d["id"] for d in api.items("/documents", params)}


def test_a_document_reads_with_amounts_as_strings_and_iso_dates(world, admin):
    invoice = world.documents["c_par_alice"]
    [row] = admin.json("/documents", {"customer": world.customers["c_par_alice"].pk})["items"]
    detail = admin.json(f"/documents/{invoice.pk}")
    assert detail.pop("allocations") == []
    assert detail == row
    assert row["number"] == "INV-PAR001"
    assert row["company"] == "FR1"
    assert row["customer"] == {"id": invoice.customer_id, "reference": "PAR001", "name": "Atelier Paris"}
    assert (row["type"], row["currency"], row["status"]) == ("invoice", "EUR", "open")
    assert (row["amount"], row["tax_amount"], row["open_amount"]) == ("1200.00", "200.00", "1200.00")
    assert (row["issue_date"], row["due_date"], row["settled_on"]) == ("2026-04-01", "2026-05-01", None)


@pytest.mark.parametrize(
    "currency, amount, expected",
    [("EUR", "1200", "1200.00"), ("GBP", "0.5", "0.50"), ("JPY", "1200", "1200"), ("TND", "10.125", "10.125")],
)
def test_amounts_have_the_minor_unit_of_their_currency(world, admin, currency, amount, expected):
    doc = DocumentFactory(
        customer=world.customers["c_uk_alice"], currency=currency, amount=Decimal(amount), tax_amount=0
    )
    body = admin.json(f"/documents/{doc.pk}")
    assert (body["currency"], body["amount"], body["open_amount"]) == (currency, expected, expected)


def test_every_amount_in_eur_lists_has_two_decimals(world, admin):
    for row in admin.items("/documents", {"currency": "EUR"}):
        for name in ("amount", "tax_amount", "open_amount"):
            assert isinstance(row[name], str) and DECIMAL_2.match(row[name]), (name, row[name])
    for row in admin.items("/payments", {"currency": "EUR"}):
        for name in ("amount", "unallocated_amount"):
            assert isinstance(row[name], str) and DECIMAL_2.match(row[name]), (name, row[name])


class TestFilters:
    @pytest.fixture
    def docs(self, world):
        alice = world.customers["c_par_alice"]
        settled = DocumentFactory(customer=alice, number="INV-SETTLED", amount=Decimal("10"), tax_amount=0)
        Document.objects.filter(pk=settled.pk).update(open_amount=0, settled_on=dt.date(2026, 2, 1))
        credit = DocumentFactory(
            customer=alice, number="CN-1", type=DocumentType.CREDIT_NOTE, amount=Decimal("5"), tax_amount=0
        )
        not_due = DocumentFactory(
            customer=alice, number="INV-LATER", issue_date=dt.date(2026, 6, 15), due_date=dt.date(2026, 7, 15)
        )
        return {"settled": settled, "credit": credit, "not_due": not_due, "invoice": world.documents["c_par_alice"]}

    def test_status_open_and_settled(self, world, admin, docs):
        alice = world.customers["c_par_alice"].pk
        assert ids(admin, {"customer": alice, "status": "settled"}) == {docs["settled"].pk}
        assert ids(admin, {"customer": alice, "status": "open"}) == {
            docs["credit"].pk,
            docs["not_due"].pk,
            docs["invoice"].pk,
        }

    def test_type(self, world, admin, docs):
        assert ids(admin, {"type": "credit_note"}) == {docs["credit"].pk}

    def test_overdue_true_and_false(self, world, admin, docs):
        alice = world.customers["c_par_alice"].pk
        assert ids(admin, {"customer": alice, "overdue": True}) == {docs["invoice"].pk}
        assert ids(admin, {"customer": alice, "overdue": False}) == {
            docs["settled"].pk,
            docs["credit"].pk,
            docs["not_due"].pk,
        }

    def test_q_company_and_currency(self, world, admin, docs):
        assert ids(admin, {"q": "INV-LATER"}) == {docs["not_due"].pk}
        assert ids(admin, {"q": "cardiff"}) == {world.documents["c_uk_carol"].pk}
        assert ids(admin, {"company": "UK1"}) == {world.documents["c_uk_alice"].pk, world.documents["c_uk_carol"].pk}
        assert ids(admin, {"currency": "GBP", "company": "FR1"}) == set()

    def test_updated_since(self, world, admin, docs):
        Document.objects.update(updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        Document.objects.filter(pk=docs["credit"].pk).update(updated_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
        assert ids(admin, {"updated_since": "2026-05-01T00:00:00Z"}) == {docs["credit"].pk}


class TestAllocations:
    def test_an_invoice_lists_its_payments_and_credit_notes_with_reversals(self, world, admin):
        invoice = world.documents["c_par_alice"]
        payment = world.payments["c_par_alice"]
        credit = DocumentFactory(
            customer=invoice.customer,
            number="CN-ALICE",
            type=DocumentType.CREDIT_NOTE,
            amount=Decimal("20"),
            tax_amount=0,
        )
        paid = services.allocation_create(actor="test", target=invoice, payment=payment, amount="60", date="2026-06-01")
        services.allocation_create(actor="test", target=invoice, credit_note=credit, amount="20", date="2026-06-02")
        services.allocation_reverse(actor="test", allocation=paid, date="2026-06-03")

        body = admin.json(f"/documents/{invoice.pk}")

        assert body["open_amount"] == "1180.00"
        rows = body["allocations"]
        assert [(a["source"], a["amount"], a["date"]) for a in rows] == [
            ("payment", "60.00", "2026-06-01"),
            ("credit_note", "20.00", "2026-06-02"),
            ("payment", "-60.00", "2026-06-03"),
        ]
        assert rows[0]["payment"] == {"id": payment.pk, "reference": "PAY-PAR001"}
        assert rows[0]["credit_note"] is None
        assert rows[1]["credit_note"] == {"id": credit.pk, "number": "CN-ALICE", "type": "credit_note"}
        assert rows[2]["reverses_id"] == rows[0]["id"]
        assert all(a["target"]["id"] == invoice.pk for a in rows)

        credit_body = admin.json(f"/documents/{credit.pk}")
        assert [a["id"] for a in credit_body["allocations"]] == [rows[1]["id"]]
        assert credit_body["status"] == "settled"
        assert credit_body["settled_on"] == "2026-06-02"


def test_an_allocation_makes_the_invoice_and_payment_show_up_in_updated_since(world, admin):
    Document.objects.update(updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    services.allocation_create(
        actor="test",
        target=world.documents["c_par_alice"],
        payment=world.payments["c_par_alice"],
        amount="10",
        date="2026-06-01",
    )
    changed = ids(admin, {"updated_since": "2026-03-01T00:00:00Z"})
    assert changed == {world.documents["c_par_alice"].pk}
