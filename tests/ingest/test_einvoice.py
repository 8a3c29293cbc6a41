"""`relance import einvoice`: Factur-X/ZUGFeRD PDF, CII and UBL invoices and credit notes, on the real samples."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from relance.ingest import einvoice
from relance.ingest.models import EInvoiceCheck, ImportRun
from relance.ledger.models import Customer, Document
from relance.orgs import services as org_services
from tests.conftest import SHARED_DATA

DATA = SHARED_DATA / "einvoices"
D = Decimal


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, "--json", stdout=out, stderr=err)
    return json.loads(out.getvalue())


def refused(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command(*args, "--json", stdout=out, stderr=err)
    return json.loads(out.getvalue())["files"]


@pytest.fixture
def sellers(db):
    """Our companies, set up from the samples' seller ids with the ordinary service. The German and British
    sample sellers carry VAT numbers that fail their check digits, so those companies have none: their
    invoices are imported with --company."""
    add = org_services.company_add
    return {
        "FR": add(
            actor="test",
            code="FRS",
            name="Le Fournisseur",
            country="FR",
            currency="EUR",
            siren="123456782",
            vat_number="FR11123456782",
        ),
        "BE": add(
            actor="test",
            code="BES",
            name="My Supplier Company",
            country="BE",
            currency="EUR",
            vat_number="BE0000000196",
        ),
        "NL": add(
            actor="test", code="NLS", name="De Koksmaat", country="NL", currency="EUR", vat_number="NL820098395B01"
        ),
        "DE": add(actor="test", code="DES", name="Lieferant GmbH", country="DE", currency="EUR"),
        "GB": add(actor="test", code="GBS", name="Supplier Ltd", country="GB", currency="EUR"),
    }


# file, --company, number, type, issue, due, due from, amount (BT-112), tax (BT-110), amount due (BT-115), customer
SAMPLES = [
    ("cii/facturx_fr_en16931.xml", "", "FRS", "F20260023", "invoice", "2026-01-31", "2026-03-02", "invoice",
     "104.90", "4.90", "104.90", "FR05987654321"),
    ("pdf/facturx_invoice_EN16931.pdf", "", "FRS", "F20260023", "invoice", "2026-01-31", "2026-03-02", "invoice",
     "104.90", "4.90", "104.90", "FR05987654321"),
    ("cii/facturx_fr_minimum.xml", "", "FRS", "F20260023", "invoice", "2026-01-31", "2026-03-02", "customer_terms",
     "104.90", "4.90", "104.90", "SIREN987654321"),
    ("cii/zugferd_2p3_BASIC-WL_Einfach.xml", "DES", "DES", "TX-471102", "invoice", "2024-11-15", "2024-12-15",
     "invoice", "18.08", "1.18", "18.08", "NAME-TAXI-GAST-AG-MITTE"),
    ("cii/zugferd_2p3_BASIC_Einfach.xml", "DES", "DES", "471102", "invoice", "2024-11-15", "2024-12-15", "invoice",
     "235.62", "37.62", "235.62", "NAME-KUNDEN-AG-MITTE"),
    ("cii/zugferd_2p3_EN16931_Einfach.xml", "DES", "DES", "471102", "invoice", "2024-11-15", "2024-12-15",
     "payment_terms", "529.87", "56.87", "529.87", "GE2020211"),
    ("cii/zugferd_2p3_EN16931_Einfach_DueDate.xml", "DES", "DES", "471102", "invoice", "2024-11-15", "2024-12-15",
     "invoice", "529.87", "56.87", "529.87", "GE2020211"),
    ("cii/zugferd_2p3_EN16931_Rechnungskorrektur.xml", "DES", "DES", "RK21012345", "credit_note", "2024-11-15",
     "2024-11-15", "issue_date", "8.79", "1.12", "8.79", "009420"),
    ("cii/zugferd_2p3_EN16931_SEPA_Prenotification.xml", "DES", "DES", "471102", "invoice", "2024-11-15",
     "2024-11-20", "payment_terms", "529.87", "56.87", "529.87", "GE2020211"),
    ("cii/zugferd_2p3_EXTENDED_Warenrechnung.xml", "DES", "DES", "R87654321012345", "invoice", "2024-11-15",
     "2024-12-15", "customer_terms", "518.99", "70.00", "518.99", "009420"),
    ("cii/zugferd_2p3_MINIMUM_Rechnung.xml", "DES", "DES", "471102", "invoice", "2024-11-15", "2024-12-15",
     "customer_terms", "235.62", "37.62", "235.62", "NAME-KUNDEN-AG-FRANKREICH"),
    ("cii/zugferd_2p3_XRECHNUNG_Einfach.xml", "DES", "DES", "471102", "invoice", "2024-11-15", "2024-12-15",
     "payment_terms", "529.87", "56.87", "529.87", "GE2020211"),
    ("ubl/peppol_bis3_base-example.xml", "GBS", "GBS", "Snippet1", "invoice", "2017-11-13", "2017-12-01", "invoice",
     "1656.25", "331.25", "1656.25", "SE4598375937"),
    ("ubl/peppol_bis3_Allowance-example.xml", "GBS", "GBS", "Snippet1", "invoice", "2017-11-13", "2017-12-01",
     "invoice", "7125.00", "1225.00", "6125.00", "SE4598375937"),
    ("ubl/en16931_ubl-tc434-example1.xml", "", "NLS", "12115118", "invoice", "2015-01-09", "2015-01-09", "invoice",
     "250.33", "20.73", "250.33", "10202"),
    ("ubl/en16931_ubl-tc434-creditnote1.xml", "", "BES", "018304 / 28865", "credit_note", "2019-09-23", "2019-09-23",
     "issue_date", "100.11", "0.00", "100.11", "BE0000000295"),
]  # fmt: skip


@pytest.mark.parametrize("sample", SAMPLES, ids=[s[0].split("/")[1] for s in SAMPLES])
def test_every_sample_loads_field_by_field(sellers, sample):
    name, option, company, number, kind, issue, due, due_from, amount, tax, amount_due, customer_ref = sample
    args = ["import", "einvoice", str(DATA / name)] + (["--company", option] if option else [])
    result = run(*args)["files"][0]
    assert result["status"] == "created", result
    doc = Document.objects.get(number=number)
    assert (doc.company.code, doc.type, doc.issue_date.isoformat(), doc.due_date.isoformat(), doc.currency) == (
        company,
        kind,
        issue,
        due,
        "EUR",
    )
    assert (doc.amount, doc.tax_amount, doc.open_amount, doc.source) == (D(amount), D(tax), D(amount), "einvoice")
    assert doc.customer.reference == customer_ref
    check = EInvoiceCheck.objects.get(document=doc)
    assert (check.amount_due, check.due_date_source) == (D(amount_due), due_from)
    assert (result["amount"], result["amount_due"], result["due_date"]) == (amount, amount_due, due)
    # the original file is kept on the document, byte for byte
    assert doc.original_file.name.endswith(".pdf" if name.endswith(".pdf") else ".xml")
    with doc.original_file.open("rb") as fh:
        assert fh.read() == (DATA / name).read_bytes()
    assert check.container == ("pdf" if name.endswith(".pdf") else "xml")
    assert check.syntax == ("UBL" if name.startswith("ubl/") else "CII")


def test_the_french_invoice_field_by_field(sellers):
    result = run("import", "einvoice", str(DATA / "pdf/facturx_invoice_EN16931.pdf"))["files"][0]
    assert (result["company"], result["customer_status"], result["profile"]) == (
        "FRS",
        "created",
        "urn:cen.eu:en16931:2017",
    )
    assert result["french_mentions_checked"] is True
    assert result["missing_mentions"] == [] and result["subrogation"] is False
    customer = Customer.objects.get(reference="FR05987654321")
    # the buyer's VAT number and SIREN fail their check digits: the customer is created without them
    assert (customer.name, customer.country, customer.vat_number, customer.siren) == ("LE CLIENT", "FR", "", "")
    assert any("VAT number FR05987654321 is not valid" in w for w in result["warnings"])
    assert customer.main_contact.email == "me@buyer.com"
    check = EInvoiceCheck.objects.get(document__number="F20260023")
    assert check.buyer["address"] == ["MON ADRESSE LIGNE 1", "Buyer line 2", "Buyer line 3", "06000 MA VILLE"]
    assert check.seller["siren"] == "123456782" and check.seller["siret"] == "12345678200077"
    assert check.type_code == "380" and check.profile == "urn:cen.eu:en16931:2017"


def test_a_minimum_profile_french_invoice_is_flagged_for_its_missing_mentions(sellers):
    result = run("import", "einvoice", str(DATA / "cii/facturx_fr_minimum.xml"))["files"][0]
    assert result["missing_mentions"] == ["recovery_indemnity", "late_penalties", "early_payment_discount"]
    assert EInvoiceCheck.objects.get().missing_mentions == result["missing_mentions"]
    out = io.StringIO()
    call_command("import", "einvoice", str(DATA / "cii/facturx_fr_minimum.xml"), stdout=out, stderr=io.StringIO())
    assert "missing mention: the EUR 40 fixed recovery indemnity" in out.getvalue()


def test_foreign_invoices_are_not_checked_for_french_mentions(sellers):
    result = run("import", "einvoice", str(DATA / "ubl/en16931_ubl-tc434-example1.xml"))["files"][0]
    assert result["french_mentions_checked"] is False and result["missing_mentions"] == []


def test_subrogation_and_a_missing_indemnity_note_on_a_modified_copy(sellers, tmp_path):
    text = (DATA / "cii/facturx_fr_en16931.xml").read_text(encoding="utf-8-sig")
    text = text.replace(
        "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 €.",
        "Pour être libératoire, le paiement doit être fait à FACTOR SA, subrogé dans nos droits.",
    )
    text = text.replace("<ram:SubjectCode>PMT</ram:SubjectCode>", "<ram:SubjectCode>AAI</ram:SubjectCode>")
    path = tmp_path / "subrogee.xml"
    path.write_text(text, encoding="utf-8")
    result = run("import", "einvoice", str(path))["files"][0]
    assert result["missing_mentions"] == ["recovery_indemnity"]
    assert result["subrogation"] is True
    assert EInvoiceCheck.objects.get().subrogation is True


def test_a_credit_note_is_linked_to_the_invoice_it_corrects(sellers, tmp_path):
    text = (DATA / "cii/facturx_fr_en16931.xml").read_text(encoding="utf-8-sig")
    invoice = tmp_path / "F20260003.xml"
    invoice.write_text(text.replace("<ram:ID>F20260023</ram:ID>", "<ram:ID>F20260003</ram:ID>"), encoding="utf-8")
    credit = tmp_path / "AV1.xml"
    credit.write_text(
        text.replace("<ram:ID>F20260023</ram:ID>", "<ram:ID>AV20260001</ram:ID>").replace(
            "<ram:TypeCode>380</ram:TypeCode>", "<ram:TypeCode>381</ram:TypeCode>"
        ),
        encoding="utf-8",
    )
    results = run("import", "einvoice", str(invoice), str(credit))["files"]
    assert [r["status"] for r in results] == ["created", "created"]
    av = Document.objects.get(number="AV20260001")
    assert (av.type, av.corrects.number, av.amount) == ("credit_note", "F20260003", D("104.90"))
    assert results[1]["french_mentions_checked"] is False  # the notes are an invoice's


def test_reimporting_an_einvoice_changes_nothing(sellers):
    path = str(DATA / "pdf/facturx_invoice_EN16931.pdf")
    run("import", "einvoice", path)
    doc = Document.objects.get()
    stored, updated = doc.original_file.name, doc.updated_at
    result = run("import", "einvoice", path)["files"][0]
    assert result["status"] == "unchanged" and result["customer_status"] == "matched"
    doc.refresh_from_db()
    assert (doc.original_file.name, doc.updated_at) == (stored, updated)
    assert (Customer.objects.count(), Document.objects.count(), EInvoiceCheck.objects.count()) == (1, 1, 1)


def test_another_rendition_of_an_imported_invoice_stays_with_its_customer(sellers):
    run("import", "einvoice", str(DATA / "pdf/facturx_invoice_EN16931.pdf"))
    # the MINIMUM profile of the same invoice names the buyer by an (invalid) SIREN only
    result = run("import", "einvoice", str(DATA / "cii/facturx_fr_minimum.xml"))["files"][0]
    assert (result["status"], result["customer_status"], result["customer_ref"]) == (
        "updated",
        "matched",
        "FR05987654321",
    )
    assert Customer.objects.count() == 1 and Document.objects.count() == 1
    check = EInvoiceCheck.objects.get()
    assert (check.profile, check.missing_mentions) == (
        "urn:factur-x.eu:1p0:minimum",
        ["recovery_indemnity", "late_penalties", "early_payment_discount"],
    )
    doc = Document.objects.get()
    with doc.original_file.open("rb") as fh:
        assert fh.read() == (DATA / "cii/facturx_fr_minimum.xml").read_bytes()


def test_the_buyer_is_matched_to_an_existing_customer_by_its_reference(sellers):
    from relance.ledger import services as ledger

    ledger.customer_upsert(actor="test", company=sellers["DE"], reference="GE2020211", name="Kunden AG", country="DE")
    result = run("import", "einvoice", str(DATA / "cii/zugferd_2p3_EN16931_Einfach.xml"), "--company", "DES")
    assert result["files"][0]["customer_status"] == "matched"
    assert Customer.objects.get().name == "Kunden AG"  # an existing customer is left as it is


def test_an_unknown_seller_is_refused_without_company(sellers):
    files = refused("import", "einvoice", str(DATA / "cii/zugferd_2p3_BASIC_Einfach.xml"))
    assert files[0]["status"] == "refused"
    assert "the seller Lieferant GmbH (VAT DE123456789) is none of our companies" in files[0]["reason"]
    assert not Document.objects.exists()


def test_a_seller_that_is_another_of_our_companies_is_refused(sellers):
    files = refused("import", "einvoice", str(DATA / "cii/facturx_fr_en16931.xml"), "--company", "DES")
    assert "is company FRS, not DES" in files[0]["reason"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"numero;montant\nF1;12\n", "neither a PDF nor well-formed XML"),
        (b"<?xml version='1.0'?><Order xmlns='urn:example'/>", "the root element is {urn:example}Order"),
        (
            b"<rsm:CrossDomainAcknowledgementAndResponse xmlns:rsm="
            b"'urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100'/>",
            "CrossDomainAcknowledgementAndResponse; expected a CII",
        ),
    ],
    ids=["csv", "unknown-root", "cdar"],
)
def test_a_file_that_is_not_an_einvoice_is_refused_with_the_reason(sellers, tmp_path, content, reason):
    path = tmp_path / "not-an-invoice.xml"
    path.write_bytes(content)
    files = refused("import", "einvoice", str(path), "--company", "FRS")
    assert files[0]["status"] == "refused" and reason in files[0]["reason"]
    assert ImportRun.objects.get(kind="einvoice").status == "refused"


def test_a_missing_mandatory_element_is_named(sellers, tmp_path):
    text = (DATA / "cii/facturx_fr_en16931.xml").read_text(encoding="utf-8-sig")
    path = tmp_path / "no-number.xml"
    path.write_text(text.replace("<ram:ID>F20260023</ram:ID>", ""), encoding="utf-8")
    files = refused("import", "einvoice", str(path))
    assert "the mandatory element BT-1 (invoice number) is missing (rsm:ExchangedDocument/ram:ID)" in files[0]["reason"]
    ubl = (DATA / "ubl/peppol_bis3_base-example.xml").read_text()
    path.write_text(ubl.replace('<cbc:TaxInclusiveAmount currencyID="EUR">1656.25</cbc:TaxInclusiveAmount>', ""))
    files = refused("import", "einvoice", str(path), "--company", "GBS")
    assert "BT-112 (invoice total with VAT)" in files[0]["reason"]


def test_a_pdf_without_an_embedded_invoice_is_refused(sellers, tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    path = tmp_path / "scan.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    files = refused("import", "einvoice", str(path), "--company", "FRS")
    assert "a PDF without an embedded Factur-X/ZUGFeRD XML invoice" in files[0]["reason"]


def test_one_refused_file_does_not_stop_the_others(sellers, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("not xml")
    files = refused("import", "einvoice", str(bad), str(DATA / "cii/facturx_fr_en16931.xml"))
    assert [f["status"] for f in files] == ["refused", "created"]
    assert Document.objects.filter(number="F20260023").exists()


# --- pure rules ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        ("Zahlbar innerhalb 30 Tagen netto bis 15.12.2024, 3% Skonto innerhalb 10 Tagen bis 25.11.2024", "2024-12-15"),
        ("PAIEMENT 30 JOURS NET", "2024-12-15"),
        ("45 jours fin de mois", "2024-12-31"),
        ("Net 60", "2025-01-14"),
        ("Paiement à réception", "2024-11-15"),
        ("Bei Zahlung innerhalb 14 Tagen gewähren wir 2,0% Skonto.", None),
        (
            "Der Betrag in Höhe von EUR 529,87 wird am 20.11.2024 von Ihrem Konto per SEPA-Lastschrift eingezogen.",
            "2024-11-20",
        ),
        ("", None),
    ],
)
def test_due_dates_read_from_payment_terms(terms, expected):
    due = einvoice.due_date_from_terms(terms, dt.date(2024, 11, 15))
    assert (due.isoformat() if due else None) == expected


def test_a_negative_corrected_invoice_is_a_credit_note_with_positive_amounts():
    invoice, container = einvoice.read_einvoice(
        (DATA / "cii/zugferd_2p3_EN16931_Rechnungskorrektur.xml").read_bytes(), "k.xml"
    )
    assert (container, invoice.type_code, invoice.is_credit_note, invoice.amount, invoice.tax) == (
        "xml",
        "384",
        True,
        D("8.79"),
        D("1.12"),
    )


def test_parties_and_identifiers_are_read_per_syntax():
    inv, _ = einvoice.read_einvoice((DATA / "ubl/peppol_bis3_base-example.xml").read_bytes(), "p.xml")
    assert (inv.seller.name, inv.seller.vat_number, inv.seller.assigned_ids) == (
        "SupplierOfficialName Ltd",
        "GB1232434",
        ("99887766",),
    )
    assert (inv.buyer.name, inv.buyer.country, inv.buyer.vat_number) == ("Buyer Official Name", "SE", "SE4598375937")
    assert ("0088", "9482348239847239874") in inv.seller.scheme_ids
    assert inv.payment_terms == "Payment within 10 days, 2% discount"
    cii, _ = einvoice.read_einvoice((DATA / "cii/zugferd_2p3_EXTENDED_Warenrechnung.xml").read_bytes(), "x.xml")
    assert (cii.buyer.assigned_ids, cii.buyer.gln) == (("009420",), "4304171000002")
