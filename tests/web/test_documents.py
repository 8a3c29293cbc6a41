"""The document list and the document detail page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from relance.core.vocab import DocumentType
from relance.ledger import services
from tests.conftest import EXPECTED_SCOPE
from tests.factories import DocumentFactory, PaymentFactory

from .conftest import document_numbers

LIST = reverse("web:document_list")


def numbers(client, query=""):
    response = client.get(LIST + query)
    assert response.status_code == 200
    return document_numbers(response.content.decode())


def numbers_of(world, keys):
    return {world.documents[k].number for k in keys}


@pytest.mark.parametrize("user_key", sorted(EXPECTED_SCOPE))
def test_each_user_lists_exactly_the_documents_of_their_customers(client_for, world, user_key):
    assert numbers(client_for(user_key)) == numbers_of(world, EXPECTED_SCOPE[user_key])


@pytest.fixture
def settled_and_credit(world):
    """c_lyo_bob's invoice is paid; c_par_alice has a credit note correcting her invoice, applied in part."""
    bob_doc = world.documents["c_lyo_bob"]
    pay = PaymentFactory(customer=bob_doc.customer, reference="PAY-BOB-FULL", amount=Decimal("1200.00"))
    services.allocation_create(actor=None, target=bob_doc, amount="1200.00", date="2026-06-15", payment=pay)
    invoice = world.documents["c_par_alice"]
    credit = DocumentFactory(
        customer=invoice.customer,
        number="CN-PAR001",
        type=DocumentType.CREDIT_NOTE,
        amount=Decimal("300.00"),
        tax_amount=Decimal("50.00"),
        issue_date=dt.date(2026, 5, 10),
        due_date=dt.date(2026, 5, 10),
        corrects=invoice,
    )
    services.allocation_create(actor=None, target=invoice, amount="120.00", date="2026-05-11", credit_note=credit)
    return credit


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?status=settled", {"INV-LYO001"}),
        ("?status=open", {"INV-PAR001", "INV-FR0001", "INV-UK0001", "INV-UK0002", "CN-PAR001"}),
        ("?type=credit_note", {"CN-PAR001"}),
        ("?overdue=on", {"INV-PAR001", "INV-FR0001", "INV-UK0001", "INV-UK0002"}),
        ("?currency=gbp", {"INV-UK0001", "INV-UK0002"}),
        ("?company=UK1&status=open", {"INV-UK0001", "INV-UK0002"}),
        ("?q=atelier", {"INV-PAR001", "CN-PAR001"}),
        ("?q=UK0002", {"INV-UK0002"}),
        ("?type=bogus", set()),
    ],
)
def test_document_filters(client_for, settled_and_credit, query, expected):
    assert numbers(client_for("admin"), query) == expected


def test_the_customer_filter_shows_one_customers_documents_and_names_them(client_for, world, settled_and_credit):
    par = world.customers["c_par_alice"]
    response = client_for("admin").get(LIST + f"?customer={par.pk}")
    assert document_numbers(response.content.decode()) == {"INV-PAR001", "CN-PAR001"}
    assert b"Atelier Paris" in response.content


@pytest.mark.parametrize(
    "user_key, query",
    [
        ("credit_manager_uk", "?company=FR1"),
        ("collector_carol_fr", "?company=UK1"),
        ("collector_carol_fr", "?currency=GBP"),
        ("collector_bob", "?customer={par}"),
        ("agency_manager_par", "?q=Boulangerie"),
    ],
)
def test_document_filters_never_widen_the_scope(client_for, world, user_key, query):
    query = query.format(par=world.customers["c_par_alice"].pk)
    response = client_for(user_key).get(LIST + query)
    assert document_numbers(response.content.decode()) == set()
    assert b"Atelier Paris" not in response.content


def test_documents_are_paginated(client_for, world):
    for n in range(60):
        DocumentFactory(customer=world.customers["c_par_alice"], number=f"INV-X{n:03d}")
    client = client_for("collector_alice")  # 60 + INV-PAR001 + INV-UK0001
    assert len(numbers(client)) == 50
    assert len(numbers(client, "?page=2")) == 12
    assert len(numbers(client, "?sort=number&page=2")) == 12
    assert "62 documents" in client.get(LIST).content.decode()


def test_the_detail_shows_amounts_dates_days_overdue_and_settlements(client_for, world, settled_and_credit):
    invoice = world.documents["c_par_alice"]
    html = client_for("collector_alice").get(reverse("web:document_detail", args=[invoice.pk])).content.decode()
    assert "€1,200.00" in html  # amount
    assert "€1,080.00" in html  # open after the credit note
    assert "2026-05-01" in html and ">60<" in html  # due date, days overdue at 2026-06-30
    settlements = html[html.index('data-testid="allocations-in"') :]
    assert "CN-PAR001" in settlements and "€120.00" in settlements
    assert "Corrected by" in html and "CN-PAR001" in html


def test_a_credit_note_shows_what_it_corrects_and_where_it_was_applied(client_for, world, settled_and_credit):
    html = client_for("collector_alice").get(reverse("web:document_detail", args=[settled_and_credit.pk]))
    html = html.content.decode()
    assert "Corrects" in html and "INV-PAR001" in html
    applied = html[html.index('data-testid="allocations-out"') :]
    assert "INV-PAR001" in applied and "€120.00" in applied


def test_a_settled_invoice_shows_its_payment_and_no_days_overdue(client_for, world, settled_and_credit):
    doc = world.documents["c_lyo_bob"]
    html = client_for("collector_bob").get(reverse("web:document_detail", args=[doc.pk])).content.decode()
    assert "PAY-BOB-FULL" in html and "Settled" in html and "2026-06-15" in html


def test_a_reversed_allocation_is_shown_as_a_reversal(client_for, world):
    doc = world.documents["c_par_alice"]
    allocation = services.allocation_create(
        actor=None, target=doc, amount="100.00", date="2026-06-01", payment=world.payments["c_par_alice"]
    )
    services.allocation_reverse(actor=None, allocation=allocation, date="2026-06-02")
    html = client_for("collector_alice").get(reverse("web:document_detail", args=[doc.pk])).content.decode()
    assert "reversal" in html and "-€100.00" in html


def test_the_document_list_runs_a_bounded_number_of_queries(client_for, world, django_assert_max_num_queries):
    for n in range(60):
        DocumentFactory(customer=world.customers["c_par_alice"], number=f"INV-X{n:03d}")
    client = client_for("collector_alice")
    with django_assert_max_num_queries(12):
        client.get(LIST)
