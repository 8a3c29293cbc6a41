"""The French e-invoicing lifecycle, seller side: the "Encaissée" status (code 212) of a paid invoice.

When an invoice is fully settled and cash took part in settling it, the seller reports status 212
"Encaissée" with the date and the amount cashed (mandatory for services invoices whose VAT is due on
receipt). Relance derives it from the ledger (nothing is stored):

* :func:`cashed_status` (pure): the status from an invoice's facts and the payments allocated to it;
* :func:`cdar_xml` (pure): the status as a UN/CEFACT CrossDomainAcknowledgementAndResponse (CDAR)
  message, in the French "CDV" profile (AFNOR XP Z12-012: guideline ``urn.cpro.gouv.fr:1p0:CDV:invoice``,
  ProcessConditionCode 212, the amount cashed as a ``MEN`` document characteristic);
* :func:`document_statuses` and :func:`export_cdar` (reads and file writes) for the API and
  ``relance lifecycle export``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from relance.core.money import quantize

CASHED = "212"
CASHED_LABEL = "Encaissée"
GUIDELINE = "urn.cpro.gouv.fr:1p0:CDV:invoice"
BUSINESS_PROCESS = "REGULATED"
ACKNOWLEDGEMENT_TYPE = "23"  # information: a status after the invoice was transmitted
ROLE_SELLER, ROLE_BUYER = "SE", "BY"
SCHEME_SIREN = "0002"
AMOUNT_CASHED = "MEN"  # montant encaissé
INVOICE_TYPE_CODE = {"invoice": "380", "credit_note": "381"}

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}


@dataclass(frozen=True)
class LifecycleStatus:
    code: str
    label: str
    date: dt.date
    amount: Decimal
    currency: str

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "label": self.label,
            "date": self.date.isoformat(),
            "amount": str(self.amount),
            "currency": self.currency,
        }


def cashed_status(
    *, doc_type: str, open_amount: Decimal, currency: str, payments: Iterable[tuple[dt.date, Decimal]]
) -> LifecycleStatus | None:
    """Status 212 of an invoice: once nothing is open, dated at the last payment allocated to it, for the
    sum the payments settled (what credit notes settled is not cash). None while open, for a credit note,
    or when credit notes alone settled it. ``payments``: (payment date, net amount allocated) per payment."""
    if doc_type != "invoice" or open_amount != 0:
        return None
    cashed = [(day, amount) for day, amount in payments if amount > 0]
    total = sum((amount for _, amount in cashed), Decimal(0))
    if not cashed or total <= 0:
        return None
    return LifecycleStatus(CASHED, CASHED_LABEL, max(day for day, _ in cashed), quantize(total, currency), currency)


@dataclass(frozen=True)
class Party:
    name: str
    siren: str = ""


def message_id(number: str, type_code: str, issue_date: dt.date, status: LifecycleStatus) -> str:
    """A stable identifier: the same status of the same invoice always has the same message id."""
    return f"{number}_{type_code}_{issue_date:%Y%m%d}#{status.code}_{status.date:%Y%m%d}"


def cdar_xml(
    *,
    status: LifecycleStatus,
    invoice_number: str,
    invoice_type_code: str,
    invoice_issue_date: dt.date,
    seller: Party,
    buyer: Party,
    created_at: dt.datetime,
) -> bytes:
    """The status as a CDAR message: we (the seller, role SE) tell the buyer (BY) the invoice is cashed."""
    rsm, ram, udt, qdt = (f"{{{NS[p]}}}" for p in ("rsm", "ram", "udt", "qdt"))

    def sub(parent: Any, tag: str, text: str | None = None, **attrs: str) -> Any:
        node = etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v})
        if text is not None:
            node.text = text
        return node

    def party(parent: Any, tag: str, who: Party, role: str) -> None:
        node = sub(parent, ram + tag)
        if who.siren:
            sub(node, ram + "GlobalID", who.siren, schemeID=SCHEME_SIREN)
        sub(node, ram + "Name", who.name)
        sub(node, ram + "RoleCode", role)

    root = etree.Element(rsm + "CrossDomainAcknowledgementAndResponse", nsmap=NS)
    context = sub(root, rsm + "ExchangedDocumentContext")
    sub(sub(context, ram + "BusinessProcessSpecifiedDocumentContextParameter"), ram + "ID", BUSINESS_PROCESS)
    sub(sub(context, ram + "GuidelineSpecifiedDocumentContextParameter"), ram + "ID", GUIDELINE)
    exchanged = sub(root, rsm + "ExchangedDocument")
    sub(exchanged, ram + "ID", message_id(invoice_number, invoice_type_code, invoice_issue_date, status))
    sub(exchanged, ram + "Name", f"{status.label} {invoice_number}")
    sub(sub(exchanged, ram + "IssueDateTime"), udt + "DateTimeString", f"{created_at:%Y%m%d%H%M%S}", format="204")
    sub(sub(exchanged, ram + "SenderTradeParty"), ram + "RoleCode", ROLE_SELLER)
    party(exchanged, "IssuerTradeParty", seller, ROLE_SELLER)
    party(exchanged, "RecipientTradeParty", buyer, ROLE_BUYER)
    ack = sub(root, rsm + "AcknowledgementDocument")
    sub(sub(ack, ram + "MultipleReferencesIndicator"), udt + "Indicator", "false")
    sub(ack, ram + "TypeCode", ACKNOWLEDGEMENT_TYPE)
    sub(sub(ack, ram + "IssueDateTime"), udt + "DateTimeString", f"{status.date:%Y%m%d}000000", format="204")
    ref = sub(ack, ram + "ReferenceReferencedDocument")
    sub(ref, ram + "IssuerAssignedID", invoice_number)
    sub(ref, ram + "TypeCode", invoice_type_code)
    sub(sub(ref, ram + "FormattedIssueDateTime"), qdt + "DateTimeString", f"{invoice_issue_date:%Y%m%d}", format="102")
    sub(ref, ram + "ProcessConditionCode", status.code)
    sub(ref, ram + "ProcessCondition", status.label)
    issuer = sub(ref, ram + "IssuerTradeParty")
    if seller.siren:
        sub(issuer, ram + "GlobalID", seller.siren, schemeID=SCHEME_SIREN)
    characteristic = sub(sub(ref, ram + "SpecifiedDocumentStatus"), ram + "SpecifiedDocumentCharacteristic")
    sub(characteristic, ram + "TypeCode", AMOUNT_CASHED)
    sub(characteristic, ram + "ValueAmount", str(status.amount), currencyID=status.currency)
    sub(sub(characteristic, ram + "ValueDateTime"), udt + "DateTimeString", f"{status.date:%Y%m%d}", format="102")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- reads and files (ORM) ----------------------------------------------------------------------------


def document_statuses(document: Any) -> list[LifecycleStatus]:
    """The lifecycle statuses Relance can tell for one document (the caller has checked the user's scope)."""
    from django.db.models import Sum

    from relance.core.money import from_db
    from relance.ledger.models import Allocation

    if document.type != "invoice" or document.open_amount != 0:
        return []
    rows = (
        Allocation.objects.filter(target_id=document.pk, payment__isnull=False)
        .values("payment_id", "payment__date")
        .annotate(net=Sum("amount"))
    )
    payments = [(r["payment__date"], from_db(r["net"], document.currency)) for r in rows]
    status = cashed_status(
        doc_type=document.type, open_amount=document.open_amount, currency=document.currency, payments=payments
    )
    return [status] if status else []


def document_cdar(document: Any, status: LifecycleStatus) -> bytes:
    from relance.core import clock

    return cdar_xml(
        status=status,
        invoice_number=document.number,
        invoice_type_code=INVOICE_TYPE_CODE.get(document.type, "380"),
        invoice_issue_date=document.issue_date,
        seller=Party(document.company.name, document.company.siren),
        buyer=Party(document.customer.name, document.customer.siren),
        created_at=clock.now(),
    )


def cdar_file_name(document: Any, status: LifecycleStatus) -> str:
    number = re.sub(r"[^A-Za-z0-9._-]+", "_", document.number)
    return f"{document.company.code}_{number}_{status.code}.xml"


def export_cdar(*, out_dir: Path, company: str = "", since: dt.date | None = None) -> list[Path]:
    """Write one CDAR file per cashed invoice (settled on or after ``since``) into ``out_dir``.

    Re-running rewrites the same files (same names, same message ids): safe to repeat.
    """
    from relance.ledger.models import Document
    from relance.orgs.services import company_by_code

    documents = Document.objects.filter(type="invoice", open_amount=0, settled_on__isnull=False).select_related(
        "company", "customer"
    )
    if company:
        documents = documents.filter(company=company_by_code(company))
    if since:
        documents = documents.filter(settled_on__gte=since)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for document in documents.order_by("company__code", "number").iterator(chunk_size=1000):
        for status in document_statuses(document):
            target = out_dir / cdar_file_name(document, status)
            target.write_bytes(document_cdar(document, status))
            written.append(target)
    return written
