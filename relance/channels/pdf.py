"""PDF rendering (WeasyPrint): letters, formal notices, statements and invoice copies.

:func:`render_pdf` renders a Django template to PDF in the reader's language. :func:`document_pdf` gives
the PDF to attach for a document: the original e-invoice PDF when one was imported, else a copy rendered
from the ledger. The rendering is deterministic for a given input (fixed metadata dates), so a letter
rendered twice is byte-for-byte the same file.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from relance.ledger.models import Document

UNKNOWN_LANGUAGE = "{value!r} is not a supported language ({choices})."


def _languages() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


def render_html(template_name: str, context: dict[str, Any], *, language: str) -> str:
    """The template rendered in ``language`` (the HTML that becomes the PDF; also useful in tests)."""
    if language not in _languages():
        raise ValueError(UNKNOWN_LANGUAGE.format(value=language, choices=", ".join(_languages())))
    with translation.override(language):
        return render_to_string(template_name, {**context, "language": language})


def render_pdf(template_name: str, context: dict[str, Any], *, language: str) -> bytes:
    """Render ``template_name`` with ``context`` in ``language`` ("fr" or "en") to PDF bytes."""
    from weasyprint import HTML

    html = render_html(template_name, context, language=language)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(uncompressed_pdf=False)


def safe_name(text: str) -> str:
    """A file name from a document number or reference (letters, digits, dot, dash, underscore)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "document"


def document_pdf(document: Document) -> tuple[str, bytes]:
    """(file name, PDF bytes) of ``document``: the stored original when it is a PDF, else a rendered copy."""
    original = document.original_file
    if original and PurePath(original.name).suffix.lower() == ".pdf":
        try:
            with original.open("rb") as handle:
                data = handle.read()
        except OSError:
            data = b""
        if data.startswith(b"%PDF"):
            return safe_name(PurePath(original.name).stem) + ".pdf", data
    customer = document.customer
    language = customer.language if customer.language in _languages() else "fr"
    context = {
        "document": document,
        "company": document.company,
        "customer": customer,
        "net_amount": document.amount - document.tax_amount,
        "paid_amount": document.amount - document.open_amount,
    }
    return safe_name(document.number) + ".pdf", render_pdf("channels/pdf/document.html", context, language=language)
