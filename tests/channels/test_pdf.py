"""PDF rendering: invoice copies and stored originals, read back as text."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from pypdf import PdfReader

from relance.channels import pdf
from relance.core.vocab import DocumentType

from ..factories import DocumentFactory


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_rendered_invoice_copy_in_the_customers_language(world):
    doc = world.documents["c_uk_alice"]
    doc.amount, doc.tax_amount, doc.open_amount = Decimal("1200.00"), Decimal("200.00"), Decimal("700.00")
    doc.save()
    name, data = pdf.document_pdf(doc)
    assert name == "INV-UK0001.pdf" and data.startswith(b"%PDF")
    text = text_of(data)
    assert "Invoice INV-UK0001" in text
    assert "British Widgets Ltd" in text and "Relance UK" in text
    assert "£1,200.00" in text and "£700.00" in text and "£500.00" in text  # total, due, paid


def test_rendered_credit_note_in_french(world):
    cust = world.customers["c_par_alice"]
    note = DocumentFactory(customer=cust, number="AV-7", type=DocumentType.CREDIT_NOTE, currency="EUR")
    text = text_of(pdf.document_pdf(note)[1])
    assert "Avoir AV-7" in text and "Atelier Paris" in text


def test_stored_original_is_returned_unchanged(world):
    doc = world.documents["c_par_alice"]
    original = pdf.render_pdf(
        "channels/pdf/document.html", {"document": doc, "company": doc.company, "customer": doc.customer}, language="en"
    )
    doc.original_file.save("FAC 2026-01.pdf", ContentFile(original), save=True)
    name, data = pdf.document_pdf(doc)
    assert data == original and name == "FAC_2026-01.pdf"


def test_stored_xml_original_is_not_a_pdf(world):
    doc = world.documents["c_par_alice"]
    doc.original_file.save("inv.xml", ContentFile(b"<Invoice/>"), save=True)
    name, data = pdf.document_pdf(doc)
    assert name == "INV-PAR001.pdf" and "INV-PAR001" in text_of(data)


def test_unknown_language_is_refused(world):
    with pytest.raises(ValueError, match="not a supported language"):
        pdf.render_pdf("channels/pdf/document.html", {}, language="de")
