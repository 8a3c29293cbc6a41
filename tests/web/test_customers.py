"""The customer list and the customer 360 page, for every role of the standard world."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from relance.collections.models import Dispute, DisputeReason
from relance.core import audit
from relance.core.vocab import DocumentType, PayerProfile, RiskClass
from relance.ledger import services
from relance.ledger.models import Customer
from tests.conftest import ALL, EXPECTED_SCOPE
from tests.factories import ContactFactory, CustomerFactory, DocumentFactory, PaymentFactory

from .conftest import customer_refs

LIST = reverse("web:customer_list")


def refs_of(world, keys):
    return {world.customers[k].reference for k in keys}


def listed(client, query=""):
    response = client.get(LIST + query)
    assert response.status_code == 200
    return customer_refs(response.content.decode())


# --- Scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize("user_key", sorted(EXPECTED_SCOPE))
def test_each_user_lists_exactly_the_customers_of_their_scope(client_for, world, user_key):
    html = client_for(user_key).get(LIST).content.decode()
    assert customer_refs(html) == refs_of(world, EXPECTED_SCOPE[user_key])
    for hidden in set(ALL) - set(EXPECTED_SCOPE[user_key]):
        assert world.customers[hidden].reference not in html
        assert world.customers[hidden].name not in html


@pytest.mark.parametrize("user_key", sorted(EXPECTED_SCOPE))
def test_customers_outside_the_scope_and_their_documents_look_missing(client_for, world, user_key):
    client = client_for(user_key)
    for key in ALL:
        visible = key in EXPECTED_SCOPE[user_key]
        expected = 200 if visible else 404
        customer, document = world.customers[key], world.documents[key]
        assert client.get(reverse("web:customer_detail", args=[customer.pk])).status_code == expected, key
        assert client.get(reverse("web:document_detail", args=[document.pk])).status_code == expected, key
        assert client.get(reverse("web:document_file", args=[document.pk])).status_code == 404  # no file anyway


def test_an_unknown_customer_id_gives_404(client_for):
    assert client_for("admin").get(reverse("web:customer_detail", args=[999999])).status_code == 404


def test_the_404_page_says_it_may_be_outside_the_scope(client_for, world):
    response = client_for("collector_bob").get(reverse("web:customer_detail", args=[world.customers["c_par_alice"].pk]))
    assert response.status_code == 404
    assert b"outside what your account may see" in response.content
    assert b"Atelier Paris" not in response.content


@pytest.mark.parametrize(
    "user_key, query",
    [
        ("credit_manager_uk", "?company=FR1"),
        ("collector_carol_fr", "?company=UK1"),  # her portfolio spans UK1, her scope does not
        ("collector_carol_fr", "?q=Cardiff"),
        ("collector_carol_fr", "?q=UK0002"),
        ("agency_manager_par", "?agency=LYO"),
        ("agency_manager_par", "?company=UK1"),
        ("collector_bob", "?collector={alice}"),
        ("sales_rep_sam", "?currency=GBP"),
        ("agency_manager_none", ""),
        ("agency_manager_none", "?company=FR1&agency=PAR"),
    ],
)
def test_filters_never_widen_the_scope(client_for, world, user_key, query):
    query = query.format(alice=world.users["collector_alice"].pk)
    assert listed(client_for(user_key), query) == set()


# --- Filters, search, sort -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?company=FR1", ["c_par_alice", "c_lyo_bob", "c_fr_noagency"]),
        ("?company=uk1", ["c_uk_alice", "c_uk_carol"]),
        ("?agency=PAR", ["c_par_alice"]),
        ("?currency=GBP", ["c_uk_alice", "c_uk_carol"]),
        ("?q=boulangerie", ["c_lyo_bob"]),
        ("?q=FR0001", ["c_fr_noagency"]),
        ("?q=ltd", ["c_uk_alice", "c_uk_carol"]),
        ("?q=nothing-like-this", []),
        ("?company=FR1&agency=LYO", ["c_lyo_bob"]),
    ],
)
def test_filters_and_search_narrow_the_list(client_for, world, query, expected):
    assert listed(client_for("admin"), query) == refs_of(world, expected)


def test_the_collector_filter_lists_one_collectors_customers(client_for, world):
    query = f"?collector={world.users['collector_carol_fr'].pk}"
    assert listed(client_for("admin"), query) == refs_of(world, ["c_fr_noagency", "c_uk_carol"])


def test_search_finds_a_customer_by_siren_and_by_vat_number(client_for, world):
    Customer.objects.filter(pk=world.customers["c_lyo_bob"].pk).update(siren="552100554", vat_number="FR12552100554")
    assert listed(client_for("admin"), "?q=552100554") == {"LYO001"}
    assert listed(client_for("admin"), "?q=fr12552100554") == {"LYO001"}


def test_the_overdue_filter_keeps_customers_with_an_invoice_past_due(client_for, world):
    # c_lyo_bob settles; c_uk_carol gets a second invoice not yet due
    doc = world.documents["c_lyo_bob"]
    services.allocation_create(
        actor=None,
        target=doc,
        amount="1200.00",
        date="2026-06-01",
        payment=PaymentFactory(customer=doc.customer, currency="EUR", amount=Decimal("1200.00")),
    )
    assert listed(client_for("admin"), "?overdue=on") == refs_of(
        world, ["c_par_alice", "c_fr_noagency", "c_uk_alice", "c_uk_carol"]
    )


def test_an_invalid_filter_shows_nothing_and_says_why(client_for):
    response = client_for("admin").get(LIST + "?collector=abc")
    html = response.content.decode()
    assert customer_refs(html) == set()
    assert "Some filters are not valid" in html


def test_customers_sort_by_name_and_by_oldest_overdue(client_for, world):
    world.documents["c_uk_carol"].__class__.objects.filter(pk=world.documents["c_uk_carol"].pk).update(
        issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 2, 1)
    )
    client = client_for("admin")
    html = client.get(LIST + "?sort=name").content.decode()
    names = ["Atelier Paris", "Boulangerie Lyon", "British Widgets Ltd", "Cardiff Tools Ltd", "Fromagerie Sans Agence"]
    assert [html.index(n) for n in names] == sorted(html.index(n) for n in names)
    html = client.get(LIST + "?sort=oldest_overdue").content.decode()
    assert html.index("UK0002") < html.index("FR0001")


def test_the_collector_filter_is_not_offered_to_a_collector(client_for):
    assert 'name="collector"' not in client_for("collector_alice").get(LIST).content.decode()
    assert 'name="collector"' in client_for("credit_manager").get(LIST).content.decode()


def test_filter_choices_only_offer_what_the_user_may_see(client_for):
    html = client_for("credit_manager_uk").get(LIST).content.decode()
    assert 'value="UK1"' in html
    assert 'value="FR1"' not in html
    assert 'value="PAR"' not in html


# --- Amounts, pagination -----------------------------------------------------------------------


def test_each_row_shows_open_balance_and_overdue_per_currency(client_for, world):
    # c_par_alice: invoice 1200 overdue, payment 100 unallocated, a credit note of 200, an invoice not yet due
    par = world.customers["c_par_alice"]
    DocumentFactory(
        customer=par,
        number="CN-1",
        type=DocumentType.CREDIT_NOTE,
        amount=Decimal("200.00"),
        tax_amount=Decimal(0),
        issue_date=dt.date(2026, 6, 1),
        due_date=dt.date(2026, 6, 1),
    )
    DocumentFactory(
        customer=par,
        number="INV-LATER",
        amount=Decimal("0.10"),
        tax_amount=Decimal(0),
        issue_date=dt.date(2026, 6, 20),
        due_date=dt.date(2026, 7, 20),
    )
    DocumentFactory(
        customer=par,
        number="INV-USD",
        currency="USD",
        amount=Decimal("0.20"),
        tax_amount=Decimal(0),
        issue_date=dt.date(2026, 6, 20),
        due_date=dt.date(2026, 7, 20),
    )
    html = client_for("collector_alice").get(LIST).content.decode()
    row = html[html.index(">PAR001<") : html.index(">UK0001<")]
    assert "€900.10" in row  # 1200 + 0.10 - 200 - 100 (cash)
    assert "€1,200.00" in row  # overdue
    assert "$0.20" in row and "$0.00" in row
    assert ">60<" in row  # days overdue of the oldest overdue invoice


@pytest.fixture
def long_portfolio(world):
    """120 more customers for alice in PAR, each with an overdue invoice."""
    for n in range(120):
        customer = CustomerFactory(
            company=world.fr,
            agency=world.par,
            reference=f"BULK{n:03d}",
            name=f"Bulk customer {n:03d}",
            collector=world.users["collector_alice"],
        )
        DocumentFactory(customer=customer, number=f"INV-BULK{n:03d}", issue_date=dt.date(2026, 3, 1))
    return world


def test_the_list_is_paginated_by_50(client_for, long_portfolio):
    client = client_for("collector_alice")  # 122 customers: PAR001, UK0001 and BULK000..119
    page1, page3 = listed(client), listed(client, "?page=3")
    assert len(page1) == 50
    assert {f"BULK{n:03d}" for n in range(50)} == page1
    assert len(page3) == 22
    assert "UK0001" in page3
    assert listed(client, "?page=999") == page3  # beyond the end: the last page
    assert listed(client, "?page=abc") == page1
    html = client.get(LIST).content.decode()
    assert "122 customers" in html
    assert "Page 1 of 3" in html


def test_pagination_links_keep_the_filters(client_for, long_portfolio):
    html = client_for("collector_alice").get(LIST + "?q=bulk&sort=name").content.decode()
    assert "?q=bulk&amp;sort=name&amp;page=2" in html
    assert "120 customers" in html


def test_the_list_runs_a_bounded_number_of_queries(client_for, long_portfolio, django_assert_max_num_queries):
    client = client_for("collector_alice")
    with django_assert_max_num_queries(20):
        client.get(LIST + "?overdue=on&sort=oldest_overdue")


# --- Customer 360 -----------------------------------------------------------------------------


@pytest.fixture
def full_customer(world):
    """c_par_alice with contacts, a part-paid invoice, a credit note, a dispute and activity."""
    par = world.customers["c_par_alice"]
    Customer.objects.filter(pk=par.pk).update(
        siren="552100554",
        siret="55210055400013",
        vat_number="FR12552100554",
        strategic=True,
        risk_class=RiskClass.D,
        payer_profile=PayerProfile.ERRATIC,
    )
    ContactFactory(customer=par, name="Claire Martin", email="claire@example.net", is_main_ap=True)
    ContactFactory(customer=par, name="Paul Durand", email="paul@example.net", is_main_ap=False)
    invoice = DocumentFactory(
        customer=par,
        number="INV-PART",
        amount=Decimal("500.00"),
        tax_amount=Decimal(0),
        issue_date=dt.date(2026, 6, 1),
        due_date=dt.date(2026, 6, 20),
    )
    credit = DocumentFactory(
        customer=par,
        number="CN-PART",
        type=DocumentType.CREDIT_NOTE,
        amount=Decimal("50.00"),
        tax_amount=Decimal(0),
        issue_date=dt.date(2026, 6, 5),
        due_date=dt.date(2026, 6, 5),
        corrects=invoice,
    )
    services.allocation_create(
        actor=world.users["collector_alice"],
        target=invoice,
        amount="100.00",
        date="2026-06-10",
        payment=world.payments["c_par_alice"],
    )
    services.allocation_create(
        actor=world.users["collector_alice"], target=invoice, amount="50.00", date="2026-06-11", credit_note=credit
    )
    dispute = Dispute.objects.create(
        company=par.company,
        customer=par,
        reason=DisputeReason.PRICE,
        opened_on=dt.date(2026, 6, 12),
        message="Wrong unit price on line 3",
    )
    dispute.documents.add(invoice)
    audit.record(actor=world.users["collector_alice"], action="customer.note", obj=par, message="Called the AP desk")
    return par


def test_the_360_page_shows_identity_contacts_balances_items_payments_disputes_and_activity(
    client_for, world, full_customer
):
    html = client_for("collector_alice").get(reverse("web:customer_detail", args=[full_customer.pk])).content.decode()
    for text in [
        "552100554",
        "55210055400013",
        "FR12552100554",
        "D: high risk",
        "Erratic",
        "30 days",
        "PAR · Paris",
        "alice@example.com",
        "sam@example.com",
    ]:
        assert text in html, text
    main = html.index("Claire Martin")
    assert "Main AP contact" in html[main : html.index("Paul Durand")]
    # balances: invoices 1200 + 350 open, cash 0 (the 100 was allocated), overdue 1200 + 350 (INV-PART due 06-20)
    assert "€1,550.00" in html
    # open items with their days overdue; the applied credit note is no longer open
    items = html[html.index('data-testid="open-items"') : html.index('id="h-payments"')]
    assert "INV-PAR001" in items and "INV-PART" in items and "CN-PART" not in items
    assert ">60<" in items and ">10<" in items
    payments = html[html.index('data-testid="payments"') :]
    assert "PAY-PAR001" in payments and "INV-PART" in payments
    assert "Price or discount" in html and "Wrong unit price" in html
    assert "Called the AP desk" in html and "allocation.create" in html


def test_the_360_page_runs_a_bounded_number_of_queries(client_for, full_customer, django_assert_max_num_queries):
    client = client_for("collector_alice")
    # 25 for the page itself, plus the analytics section (a fixed set of grouped queries, whatever the data),
    # plus the risk section (8: risk row, exposure, history, legal events, covers, claims, limits, credit check)
    with django_assert_max_num_queries(53):
        assert client.get(reverse("web:customer_detail", args=[full_customer.pk])).status_code == 200


def test_the_360_page_of_another_collectors_customer_is_missing_even_with_its_documents(client_for, full_customer):
    assert client_for("collector_bob").get(reverse("web:customer_detail", args=[full_customer.pk])).status_code == 404


def test_a_document_file_is_served_only_within_scope(client_for, world):
    doc = world.documents["c_par_alice"]
    doc.original_file.save("INV-PAR001.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    response = client_for("collector_alice").get(reverse("web:document_file", args=[doc.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert 'filename="INV-PAR001' in response["Content-Disposition"]
    assert client_for("collector_bob").get(reverse("web:document_file", args=[doc.pk])).status_code == 404
