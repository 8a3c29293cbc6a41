"""The e-invoicing lifecycle status 212 (Encaissée): pure rule, CDAR message, API within scope, export command."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from lxml import etree

from relance.ingest import lifecycle
from relance.ledger import services as ledger
from relance.orgs import services as org_services
from tests.api.conftest import ApiClient, assert_problem, token_for

D = Decimal
from tests.conftest import SHARED_DATA  # noqa: E402

DATA = SHARED_DATA / "einvoices"
CASHED = {"code": "212", "label": "Encaissée"}


# --- the rule (pure) ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc_type", "open_amount", "payments", "expected"),
    [
        (
            "invoice",
            D("0"),
            [(dt.date(2026, 3, 1), D("60")), (dt.date(2026, 3, 9), D("40"))],
            (dt.date(2026, 3, 9), D("100.00")),
        ),
        ("invoice", D("10"), [(dt.date(2026, 3, 1), D("90"))], None),
        ("credit_note", D("0"), [], None),
        ("invoice", D("0"), [], None),  # settled by a credit note alone: nothing was cashed
        (
            "invoice",
            D("0"),
            [(dt.date(2026, 3, 1), D("0")), (dt.date(2026, 3, 2), D("80"))],
            (dt.date(2026, 3, 2), D("80.00")),
        ),  # a payment whose allocation was reversed does not count
    ],
    ids=["paid-in-two", "still-open", "credit-note", "credit-notes-only", "reversed-payment"],
)
def test_the_cashed_status_of_an_invoice(doc_type, open_amount, payments, expected):
    status = lifecycle.cashed_status(doc_type=doc_type, open_amount=open_amount, currency="EUR", payments=payments)
    assert (None if status is None else (status.date, status.amount)) == expected
    if status:
        assert (status.code, status.label, status.currency) == ("212", "Encaissée", "EUR")


def test_the_cdar_message_carries_the_status_the_amount_and_the_invoice():
    status = lifecycle.LifecycleStatus("212", "Encaissée", dt.date(2026, 3, 9), D("104.90"), "EUR")
    xml = lifecycle.cdar_xml(
        status=status,
        invoice_number="F20260023",
        invoice_type_code="380",
        invoice_issue_date=dt.date(2026, 1, 31),
        seller=lifecycle.Party("LE FOURNISSEUR", "123456782"),
        buyer=lifecycle.Party("LE CLIENT", ""),
        created_at=dt.datetime(2026, 3, 10, 8, 30, tzinfo=dt.UTC),
    )
    root = etree.fromstring(xml)
    ns = lifecycle.NS
    assert root.tag == f"{{{ns['rsm']}}}CrossDomainAcknowledgementAndResponse"

    def one(path):
        found = root.xpath(path, namespaces=ns)
        assert len(found) == 1, path
        return found[0]

    context = "rsm:ExchangedDocumentContext"
    assert one(f"{context}/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID").text == lifecycle.GUIDELINE
    assert one(f"{context}/ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID").text == "REGULATED"
    assert one("rsm:ExchangedDocument/ram:ID").text == "F20260023_380_20260131#212_20260309"
    assert one("rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString").text == "20260310083000"
    assert one("rsm:ExchangedDocument/ram:IssuerTradeParty/ram:GlobalID[@schemeID='0002']").text == "123456782"
    assert one("rsm:ExchangedDocument/ram:RecipientTradeParty/ram:RoleCode").text == "BY"
    ref = "rsm:AcknowledgementDocument/ram:ReferenceReferencedDocument"
    assert one(f"{ref}/ram:IssuerAssignedID").text == "F20260023"
    assert one(f"{ref}/ram:ProcessConditionCode").text == "212"
    assert one(f"{ref}/ram:ProcessCondition").text == "Encaissée"
    assert one(f"{ref}/ram:FormattedIssueDateTime/qdt:DateTimeString").text == "20260131"
    characteristic = f"{ref}/ram:SpecifiedDocumentStatus/ram:SpecifiedDocumentCharacteristic"
    assert one(f"{characteristic}/ram:TypeCode").text == "MEN"
    amount = one(f"{characteristic}/ram:ValueAmount")
    assert (amount.text, amount.get("currencyID")) == ("104.90", "EUR")
    assert one(f"{characteristic}/ram:ValueDateTime/udt:DateTimeString").text == "20260309"
    assert one("rsm:AcknowledgementDocument/ram:IssueDateTime/udt:DateTimeString").text == "20260309000000"


# --- API within the caller's scope --------------------------------------------------------------------


def pay(document, amount, day, reference):
    payment, _ = ledger.payment_upsert(
        actor="test",
        company=document.company,
        customer=document.customer,
        reference=reference,
        date=day,
        currency=document.currency,
        amount=amount,
    )
    return ledger.allocation_create(actor="test", target=document, payment=payment, amount=amount, date=day)


@pytest.fixture
def paid(world):
    """The invoice of c_par_alice (1200.00 EUR) paid in two transfers; the others stay open."""
    document = world.documents["c_par_alice"]
    pay(document, "700.00", dt.date(2026, 5, 2), "VIR-A1")
    pay(document, "500.00", dt.date(2026, 5, 20), "VIR-A2")
    return document


def test_a_paid_invoice_answers_its_cashed_status(paid, world, client):
    api = ApiClient(client, token_for(world.users["collector_alice"]))
    body = api.json(f"/documents/{paid.pk}/lifecycle")
    assert body == {
        "document": paid.number,
        "document_id": paid.pk,
        "statuses": [{**CASHED, "date": "2026-05-20", "amount": "1200.00", "currency": "EUR"}],
    }


def test_an_open_invoice_has_no_status_yet(world, client):
    api = ApiClient(client, token_for(world.users["admin"]))
    document = world.documents["c_lyo_bob"]
    assert api.json(f"/documents/{document.pk}/lifecycle")["statuses"] == []
    assert_problem(api.get(f"/documents/{document.pk}/lifecycle/cdar"), 404, "not_found")


def test_a_document_out_of_scope_answers_404_problem(paid, world, client):
    api = ApiClient(client, token_for(world.users["collector_bob"]))
    body = assert_problem(api.get(f"/documents/{paid.pk}/lifecycle"), 404, "not_found")
    assert body["instance"].endswith(f"/documents/{paid.pk}/lifecycle")
    assert_problem(api.get(f"/documents/{paid.pk}/lifecycle/cdar"), 404, "not_found")
    assert_problem(ApiClient(client, None).get(f"/documents/{paid.pk}/lifecycle"), 401)


def test_the_cdar_of_a_paid_invoice_is_downloadable(paid, world, client):
    api = ApiClient(client, token_for(world.users["credit_manager"]))
    response = api.get(f"/documents/{paid.pk}/lifecycle/cdar")
    assert response.status_code == 200 and response["Content-Type"] == "application/xml"
    assert f'filename="FR1_{paid.number}_212.xml"' in response["Content-Disposition"]
    root = etree.fromstring(response.content)
    assert root.xpath("//ram:ProcessConditionCode", namespaces=lifecycle.NS)[0].text == "212"
    assert root.xpath("//ram:ValueAmount", namespaces=lifecycle.NS)[0].text == "1200.00"


def test_the_lifecycle_endpoint_is_in_the_openapi_schema(world):
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/documents/{document_id}/lifecycle" in schema["paths"]


# --- end to end: an imported e-invoice, paid, exported ------------------------------------------------


def test_an_imported_einvoice_once_paid_is_exported_as_cdar(db, tmp_path):
    org_services.company_add(
        actor="test",
        code="FRS",
        name="Le Fournisseur",
        country="FR",
        currency="EUR",
        siren="123456782",
        vat_number="FR11123456782",
    )
    call_command(
        "import",
        "einvoice",
        str(DATA / "pdf/facturx_invoice_EN16931.pdf"),
        "--json",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    from relance.ledger.models import Document

    invoice = Document.objects.get(number="F20260023")
    out_dir = tmp_path / "cdar"

    def export(*extra):
        out = io.StringIO()
        call_command("lifecycle", "export", "--out", str(out_dir), *extra, "--json", stdout=out)
        return json.loads(out.getvalue())

    assert export()["written"] == 0  # not paid yet
    pay(invoice, "104.90", dt.date(2026, 3, 2), "VIR-F20260023")
    result = export("--company", "FRS", "--since", "2026-03-01")
    assert result["written"] == 1
    written = Path(result["files"][0])
    assert written.name == "FRS_F20260023_212.xml"
    root = etree.fromstring(written.read_bytes())
    ref = root.xpath("//rsm:AcknowledgementDocument/ram:ReferenceReferencedDocument", namespaces=lifecycle.NS)[0]
    assert ref.xpath("ram:IssuerAssignedID", namespaces=lifecycle.NS)[0].text == "F20260023"
    assert ref.xpath(".//ram:ValueAmount", namespaces=lifecycle.NS)[0].text == "104.90"
    assert export("--since", "2026-03-03")["written"] == 0  # settled before that date
    assert export()["written"] == 1  # re-running rewrites the same file
    assert sorted(p.name for p in out_dir.iterdir()) == ["FRS_F20260023_212.xml"]
