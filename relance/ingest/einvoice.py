"""E-invoices (EN 16931): Factur-X/ZUGFeRD PDF, UN/CEFACT CII XML, UBL 2.1 invoices and credit notes.

* :func:`read_einvoice` (pure): bytes in, an :class:`EInvoice` out, or a ValidationError saying why the
  file is not a usable e-invoice (not XML, unknown root, a missing mandatory element named by its BT).
* :func:`check_mentions` and :func:`due_date_from_terms` (pure): the French mandatory payment notes
  (fixed EUR 40 recovery indemnity, late-payment penalties, early-payment discount), the factoring
  subrogation mention, and a due date read from a payment-terms text.
* :func:`import_einvoice` (service): the seller is one of our companies (VAT, SIREN/SIRET, or ``company``),
  the buyer is matched or created as its customer, the document is upserted through the ledger service,
  the original file is kept on the document, and the checks are stored in an EInvoiceCheck.

The rules, element by element, are in docs/imports-fec-einvoice.md.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from relance.core import errors
from relance.core.identifiers import COUNTRIES, validate_siren, validate_siret, validate_vat

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
CII_ROOT = f"{{{NS['rsm']}}}CrossIndustryInvoice"
UBL_INVOICE_ROOT = f"{{{NS['inv']}}}Invoice"
UBL_CREDIT_NOTE_ROOT = f"{{{NS['cn']}}}CreditNote"

# UNTDID 1001 document types that credit the buyer (EN 16931 code list for BT-3)
CREDIT_NOTE_CODES = frozenset({"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"})
FACTORED_CODES = frozenset({"393", "396"})
SCHEME_SIREN, SCHEME_SIRET, SCHEME_GLN, SCHEME_FR_VAT = "0002", "0009", "0088", "9957"

# Messages (rule 10)
NOT_XML = "{file}: not an e-invoice: the file is neither a PDF nor well-formed XML ({reason})."
UNKNOWN_ROOT = (
    "{file}: not an e-invoice: the root element is {root}; expected a CII rsm:CrossIndustryInvoice "
    "(Factur-X, ZUGFeRD 2, XRechnung) or a UBL 2.1 Invoice or CreditNote."
)
MISSING = "{file}: not a valid e-invoice: the mandatory element {bt} ({label}) is missing ({path})."
BAD_VALUE = "{file}: {bt} ({label}) {value!r} is not {what}."
PDF_WITHOUT_XML = "{file}: a PDF without an embedded Factur-X/ZUGFeRD XML invoice (only a picture of an invoice)."
PDF_UNREADABLE = "{file}: not a readable PDF ({reason})."
SELLER_UNKNOWN = (
    "{file}: the seller {name} ({ids}) is none of our companies: give its code with --company, "
    "or set its VAT number / SIREN on the company (relance company add)."
)
SELLER_OTHER_COMPANY = "{file}: the seller {name} is company {found}, not {given}."
ZERO_TOTAL = "{file}: BT-112 (invoice total with VAT) is zero: nothing to collect."

MENTIONS = ("recovery_indemnity", "late_penalties", "early_payment_discount")
MENTION_LABELS = {
    "recovery_indemnity": "the EUR 40 fixed recovery indemnity (indemnité forfaitaire pour frais de recouvrement)",
    "late_penalties": "the late-payment penalties (pénalités de retard)",
    "early_payment_discount": "the early-payment discount terms (escompte)",
}
# French CIUS note subject codes carrying each mention
MENTION_SUBJECTS = {"recovery_indemnity": "PMT", "late_penalties": "PMD", "early_payment_discount": "AAB"}


@dataclass(frozen=True)
class Note:
    subject: str
    content: str


@dataclass(frozen=True)
class Party:
    """A seller or buyer as the invoice gives it. Identifiers are kept as written (compact)."""

    name: str
    country: str = ""
    assigned_ids: tuple[str, ...] = ()  # ids without a scheme: the seller's own id for the party (BT-29/BT-46)
    scheme_ids: tuple[tuple[str, str], ...] = ()  # (ISO 6523 scheme, id): global ids, legal registration id
    vat_number: str = ""
    email: str = ""
    address: tuple[str, ...] = ()  # street lines, then "postcode city"

    def scheme(self, code: str) -> str:
        return next((value for scheme, value in self.scheme_ids if scheme == code), "")

    @property
    def siret(self) -> str:
        return self.scheme(SCHEME_SIRET)

    @property
    def siren(self) -> str:
        siren = self.scheme(SCHEME_SIREN) or self.siret[:9]
        if not siren and self.vat_number.startswith("FR") and len(self.vat_number) == 13:
            siren = self.vat_number[4:]
        return siren

    @property
    def gln(self) -> str:
        return self.scheme(SCHEME_GLN)

    @property
    def valid_vat(self) -> str:
        return _valid(validate_vat, self.vat_number)

    @property
    def valid_siren(self) -> str:
        return _valid(validate_siren, self.siren)

    @property
    def valid_siret(self) -> str:
        return _valid(validate_siret, self.siret)

    def ids_text(self) -> str:
        parts = [f"VAT {self.vat_number}"] if self.vat_number else []
        parts += [f"{scheme} {value}" for scheme, value in self.scheme_ids]
        parts += [f"id {value}" for value in self.assigned_ids]
        return ", ".join(parts) or "no identifier"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "country": self.country,
            "vat_number": self.vat_number,
            "siren": self.siren,
            "siret": self.siret,
            "gln": self.gln,
            "ids": [{"scheme": s, "id": v} for s, v in self.scheme_ids]
            + [{"scheme": "", "id": v} for v in self.assigned_ids],
            "email": self.email,
            "address": list(self.address),
        }


def _valid(validator: Any, value: str) -> str:
    if not value:
        return ""
    try:
        return validator(value)
    except errors.ValidationError:
        return ""


@dataclass(frozen=True)
class EInvoice:
    syntax: str  # CII | UBL
    profile: str  # BT-24 specification identifier
    number: str  # BT-1
    type_code: str  # BT-3
    issue_date: dt.date  # BT-2
    currency: str  # BT-5
    seller: Party
    buyer: Party
    grand_total: Decimal  # BT-112, invoice total with VAT
    tax_total: Decimal  # BT-110
    prepaid: Decimal = Decimal(0)  # BT-113
    amount_due: Decimal | None = None  # BT-115
    due_date: dt.date | None = None  # BT-9
    payment_terms: str = ""  # BT-20
    corrects_number: str = ""  # BT-25, preceding invoice reference
    buyer_reference: str = ""  # BT-10
    notes: tuple[Note, ...] = ()  # BT-21/BT-22

    @property
    def is_credit_note(self) -> bool:
        """A credit-note type code, or an invoice whose totals are negative (a correction that credits)."""
        return (self.type_code in CREDIT_NOTE_CODES) != (self.grand_total < 0)

    @property
    def amount(self) -> Decimal:
        return abs(self.grand_total)

    @property
    def tax(self) -> Decimal:
        return abs(self.tax_total)


# --- reading (pure) -----------------------------------------------------------------------------------


def read_einvoice(data: bytes, file: str) -> tuple[EInvoice, str]:
    """The invoice in ``data`` (a Factur-X/ZUGFeRD PDF or CII/UBL XML) and its container ("pdf" or "xml")."""
    if data.lstrip()[:5] == b"%PDF-":
        return parse_xml(xml_from_pdf(data, file), file), "pdf"
    return parse_xml(data, file), "xml"


def xml_from_pdf(data: bytes, file: str) -> bytes:
    """The CII XML embedded in a Factur-X/ZUGFeRD PDF (factur-x's own extraction; no XSD check here)."""
    import facturx

    try:
        _name, xml = facturx.get_xml_from_pdf(data, check_xsd=False)
    except Exception as exc:  # pypdf raises many types for a broken PDF
        raise errors.ValidationError(PDF_UNREADABLE.format(file=file, reason=exc), field="file")
    if not xml:
        raise errors.ValidationError(PDF_WITHOUT_XML.format(file=file), field="file")
    return xml


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def parse_xml(data: bytes, file: str) -> EInvoice:
    try:
        root = etree.fromstring(data.lstrip(b"\xef\xbb\xbf \t\r\n"), parser=_PARSER)  # noqa: S320 - entities off
    except etree.XMLSyntaxError as exc:
        raise errors.ValidationError(NOT_XML.format(file=file, reason=exc), field="file")
    if root.tag == CII_ROOT:
        return _Reader(root, file).cii()
    if root.tag in (UBL_INVOICE_ROOT, UBL_CREDIT_NOTE_ROOT):
        return _Reader(root, file).ubl(root.tag == UBL_CREDIT_NOTE_ROOT)
    name = etree.QName(root)
    shown = f"{{{name.namespace}}}{name.localname}" if name.namespace else name.localname
    raise errors.ValidationError(UNKNOWN_ROOT.format(file=file, root=shown), field="file")


def _compact(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value or "").upper()


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


class _Reader:
    """XPath helpers over one invoice, raising errors that name the business term."""

    def __init__(self, root: Any, file: str) -> None:
        self.root, self.file = root, file

    def _all(self, node: Any, path: str) -> list[Any]:
        return node.xpath(path, namespaces=NS)

    def text(self, node: Any, path: str) -> str:
        found = self._all(node, path)
        return " ".join((found[0].text or "").split()) if found else ""

    def required(self, node: Any, path: str, bt: str, label: str) -> str:
        value = self.text(node, path)
        if not value:
            raise errors.ValidationError(
                MISSING.format(file=self.file, bt=bt, label=label, path=path.lstrip("./")), field=bt
            )
        return value

    def amount(self, node: Any, path: str, bt: str, label: str, *, required: bool = False) -> Decimal | None:
        value = self.required(node, path, bt, label) if required else self.text(node, path)
        if not value:
            return None
        try:
            result = Decimal(value)
        except InvalidOperation:
            result = Decimal("NaN")
        if not result.is_finite():
            raise errors.ValidationError(
                BAD_VALUE.format(file=self.file, bt=bt, label=label, value=value, what="a decimal amount"), field=bt
            )
        return result

    def date(self, value: str, bt: str, label: str) -> dt.date:
        s = value.strip()
        try:
            if len(s) == 8 and s.isdigit():
                return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
            return dt.date.fromisoformat(s[:10])
        except ValueError:
            raise errors.ValidationError(
                BAD_VALUE.format(file=self.file, bt=bt, label=label, value=value, what="a date"), field=bt
            )

    # --- CII (Factur-X, ZUGFeRD 2.x, XRechnung CII) ---

    def cii(self) -> EInvoice:
        r = self.root
        doc = "rsm:ExchangedDocument"
        agreement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
        settlement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
        summation = f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
        number = self.required(r, f"{doc}/ram:ID", "BT-1", "invoice number")
        type_code = self.required(r, f"{doc}/ram:TypeCode", "BT-3", "invoice type code")
        issue = self.date(
            self.required(r, f"{doc}/ram:IssueDateTime/udt:DateTimeString", "BT-2", "issue date"), "BT-2", "issue date"
        )
        currency = self.required(r, f"{settlement}/ram:InvoiceCurrencyCode", "BT-5", "invoice currency code")
        seller = self._cii_party(f"{agreement}/ram:SellerTradeParty", "BT-27", "seller name")
        buyer = self._cii_party(f"{agreement}/ram:BuyerTradeParty", "BT-44", "buyer name")
        grand = self.amount(r, f"{summation}/ram:GrandTotalAmount", "BT-112", "invoice total with VAT", required=True)
        tax = self._cii_tax(summation, currency)
        due_text = self.text(r, f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString")
        terms = " ".join(
            " ".join((e.text or "").split())
            for e in self._all(r, f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:Description")
        ).strip()
        notes = tuple(
            Note(self.text(n, "ram:SubjectCode"), self.text(n, "ram:Content"))
            for n in self._all(r, f"{doc}/ram:IncludedNote")
        )
        assert grand is not None
        return EInvoice(
            syntax="CII",
            profile=self.text(r, "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"),
            number=number,
            type_code=type_code,
            issue_date=issue,
            currency=currency.upper(),
            seller=seller,
            buyer=buyer,
            grand_total=grand,
            tax_total=tax,
            prepaid=self.amount(r, f"{summation}/ram:TotalPrepaidAmount", "BT-113", "paid amount") or Decimal(0),
            amount_due=self.amount(r, f"{summation}/ram:DuePayableAmount", "BT-115", "amount due for payment"),
            due_date=self.date(due_text, "BT-9", "payment due date") if due_text else None,
            payment_terms=terms,
            corrects_number=self.text(r, f"{settlement}/ram:InvoiceReferencedDocument/ram:IssuerAssignedID"),
            buyer_reference=self.text(r, f"{agreement}/ram:BuyerReference"),
            notes=notes,
        )

    def _cii_tax(self, summation: str, currency: str) -> Decimal:
        """BT-110: the TaxTotalAmount in the invoice currency (a second one may give BT-111, the accounting one)."""
        for node in self._all(self.root, f"{summation}/ram:TaxTotalAmount"):
            if node.get("currencyID", currency).upper() == currency.upper():
                return self.amount(node, ".", "BT-110", "invoice total VAT amount") or Decimal(0)
        return Decimal(0)

    def _cii_party(self, path: str, bt: str, label: str) -> Party:
        nodes = self._all(self.root, path)
        if not nodes:
            raise errors.ValidationError(MISSING.format(file=self.file, bt=bt, label=label, path=path), field=bt)
        p = nodes[0]
        name = self.required(p, "ram:Name", bt, label)
        schemes: list[tuple[str, str]] = []
        for node in self._all(p, "ram:SpecifiedLegalOrganization/ram:ID") + self._all(p, "ram:GlobalID"):
            value = _compact(node.text or "")
            if value:
                schemes.append((node.get("schemeID", "") or _guess_scheme(value), value))
        vat = next(
            (
                _compact(n.text or "")
                for n in self._all(p, "ram:SpecifiedTaxRegistration/ram:ID")
                if n.get("schemeID", "VA") == "VA"
            ),
            "",
        )
        address = "ram:PostalTradeAddress"
        lines = [self.text(p, f"{address}/ram:{line}") for line in ("LineOne", "LineTwo", "LineThree")]
        city = " ".join(
            x for x in (self.text(p, f"{address}/ram:PostcodeCode"), self.text(p, f"{address}/ram:CityName")) if x
        )
        email = self.text(p, "ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']") or self.text(
            p, "ram:DefinedTradeContact/ram:EmailURIUniversalCommunication/ram:URIID"
        )
        return Party(
            name=name,
            country=self.text(p, f"{address}/ram:CountryID").upper(),
            assigned_ids=tuple(_compact(n.text or "") for n in self._all(p, "ram:ID") if (n.text or "").strip()),
            scheme_ids=tuple(schemes),
            vat_number=vat,
            email=email,
            address=tuple(x for x in (*lines, city) if x),
        )

    # --- UBL 2.1 (Peppol BIS Billing 3, EN 16931 UBL) ---

    def ubl(self, credit_note: bool) -> EInvoice:
        r = self.root
        number = self.required(r, "cbc:ID", "BT-1", "invoice number")
        type_path = "cbc:CreditNoteTypeCode" if credit_note else "cbc:InvoiceTypeCode"
        type_code = self.text(r, type_path) or ("381" if credit_note else "")
        if not type_code:
            self.required(r, type_path, "BT-3", "invoice type code")
        issue = self.date(self.required(r, "cbc:IssueDate", "BT-2", "issue date"), "BT-2", "issue date")
        currency = self.required(r, "cbc:DocumentCurrencyCode", "BT-5", "invoice currency code")
        seller = self._ubl_party("cac:AccountingSupplierParty/cac:Party", "BT-27", "seller name")
        buyer = self._ubl_party("cac:AccountingCustomerParty/cac:Party", "BT-44", "buyer name")
        total = "cac:LegalMonetaryTotal"
        grand = self.amount(r, f"{total}/cbc:TaxInclusiveAmount", "BT-112", "invoice total with VAT", required=True)
        tax = Decimal(0)
        for node in self._all(r, "cac:TaxTotal/cbc:TaxAmount"):
            if node.get("currencyID", currency).upper() == currency.upper():
                tax = self.amount(node, ".", "BT-110", "invoice total VAT amount") or Decimal(0)
                break
        due_text = self.text(r, "cbc:DueDate") or self.text(r, "cac:PaymentMeans/cbc:PaymentDueDate")
        notes = tuple(_ubl_note(" ".join((n.text or "").split())) for n in self._all(r, "cbc:Note"))
        terms = " ".join(" ".join((n.text or "").split()) for n in self._all(r, "cac:PaymentTerms/cbc:Note")).strip()
        assert grand is not None
        return EInvoice(
            syntax="UBL",
            profile=self.text(r, "cbc:CustomizationID"),
            number=number,
            type_code=type_code,
            issue_date=issue,
            currency=currency.upper(),
            seller=seller,
            buyer=buyer,
            grand_total=grand,
            tax_total=tax,
            prepaid=self.amount(r, f"{total}/cbc:PrepaidAmount", "BT-113", "paid amount") or Decimal(0),
            amount_due=self.amount(r, f"{total}/cbc:PayableAmount", "BT-115", "amount due for payment"),
            due_date=self.date(due_text, "BT-9", "payment due date") if due_text else None,
            payment_terms=terms,
            corrects_number=self.text(r, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
            buyer_reference=self.text(r, "cbc:BuyerReference"),
            notes=notes,
        )

    def _ubl_party(self, path: str, bt: str, label: str) -> Party:
        nodes = self._all(self.root, path)
        if not nodes:
            raise errors.ValidationError(MISSING.format(file=self.file, bt=bt, label=label, path=path), field=bt)
        p = nodes[0]
        name = self.text(p, "cac:PartyLegalEntity/cbc:RegistrationName") or self.required(
            p, "cac:PartyName/cbc:Name", bt, label
        )
        schemes: list[tuple[str, str]] = []
        assigned: list[str] = []
        for node in self._all(p, "cac:PartyLegalEntity/cbc:CompanyID") + self._all(p, "cac:PartyIdentification/cbc:ID"):
            value = _compact(node.text or "")
            if not value:
                continue
            scheme = node.get("schemeID", "")
            if scheme or node.tag.endswith("CompanyID"):
                schemes.append((scheme or _guess_scheme(value), value))
            else:
                assigned.append(value)
        for node in self._all(p, "cbc:EndpointID"):
            scheme = node.get("schemeID", "")
            if scheme in (SCHEME_SIREN, SCHEME_SIRET, SCHEME_GLN):
                schemes.append((scheme, _compact(node.text or "")))
        vat = ""
        for tax_scheme in self._all(p, "cac:PartyTaxScheme"):
            if self.text(tax_scheme, "cac:TaxScheme/cbc:ID").upper() == "VAT":
                vat = _compact(self.text(tax_scheme, "cbc:CompanyID"))
                if vat:
                    break
        address = "cac:PostalAddress"
        lines = [self.text(p, f"{address}/cbc:StreetName"), self.text(p, f"{address}/cbc:AdditionalStreetName")]
        lines += [" ".join((n.text or "").split()) for n in self._all(p, f"{address}/cac:AddressLine/cbc:Line")]
        city = " ".join(
            x for x in (self.text(p, f"{address}/cbc:PostalZone"), self.text(p, f"{address}/cbc:CityName")) if x
        )
        email = self.text(p, "cac:Contact/cbc:ElectronicMail")
        return Party(
            name=name,
            country=self.text(p, f"{address}/cac:Country/cbc:IdentificationCode").upper(),
            assigned_ids=tuple(dict.fromkeys(assigned)),
            scheme_ids=tuple(dict.fromkeys(schemes)),
            vat_number=vat,
            email=email,
            address=tuple(x for x in (*lines, city) if x),
        )


def _guess_scheme(value: str) -> str:
    """A legal id given without its scheme: a valid SIRET or SIREN is one; else unknown ('')."""
    if len(value) == 14 and _valid(validate_siret, value):
        return SCHEME_SIRET
    if len(value) == 9 and _valid(validate_siren, value):
        return SCHEME_SIREN
    return ""


def _ubl_note(text: str) -> Note:
    """UBL notes carry their subject code as a '#CODE#' prefix (EN 16931 UBL binding)."""
    match = re.match(r"^#([A-Z]{3})#(.*)$", text, re.S)
    return Note(match.group(1), match.group(2).strip()) if match else Note("", text)


# --- rules (pure) -------------------------------------------------------------------------------------

_DISCOUNT = re.compile(r"(?i)skonto|escompte|discount|rabatt|remise")
_IMMEDIATE = re.compile(r"(?i)\b(sofort|immediate(ly)?|imm[ée]diat|[àa] r[ée]ception|upon receipt|comptant)\b")
_DAYS = re.compile(
    r"(?i)(\d{1,3})\s*(?:jours?|j\b|days?|d\b|tage[n]?|dagen|giorni|d[íi]as)(\s*(?:fin de mois|end of month|eom))?"
)
_NET_DAYS = re.compile(r"(?i)\bnet(?:to)?\s*(\d{1,3})\b")
_DATE = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")


def due_date_from_terms(text: str, issue: dt.date) -> dt.date | None:
    """A due date read from a payment-terms text (BT-20), or None.

    The text is cut into clauses (; newline, a comma not inside a number, a full stop ending a sentence);
    clauses about a discount (skonto, escompte, discount, or a percentage) are ignored. In the first remaining
    clause that says something: an explicit date (15.12.2024, 15/12/2024, 2024-12-15), else "N days" /
    "N jours" / "N Tagen" / "net N" from the issue date ("fin de mois": to the end of that month), else
    "immediately" / "à réception" = the issue date.
    """
    for clause in re.split(r"[;\n]|,(?!\d)|\.(?=\s|$)", text or ""):
        if not clause.strip() or _DISCOUNT.search(clause) or "%" in clause:
            continue
        match = _DATE.search(clause)
        if match:
            try:
                if match.group(1):
                    day = dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
                else:
                    day = dt.date(int(match.group(4)), int(match.group(5)), int(match.group(6)))
            except ValueError:
                day = None
            if day is not None and day >= issue:
                return day
        match = _DAYS.search(clause) or _NET_DAYS.search(clause)
        if match:
            due = issue + dt.timedelta(days=int(match.group(1)))
            if match.re is _DAYS and match.group(2):
                due = due.replace(day=calendar.monthrange(due.year, due.month)[1])
            return due
        if _IMMEDIATE.search(clause):
            return issue
    return None


@dataclass(frozen=True)
class Mentions:
    applicable: bool  # a French seller's invoice: the Code de commerce notes are due (L441-9)
    missing: tuple[str, ...]
    subrogation: bool


def _mention_text(invoice: EInvoice) -> str:
    return _strip_accents(" ".join([*(n.content for n in invoice.notes), invoice.payment_terms]))


def has_mention(invoice: EInvoice, mention: str) -> bool:
    text = _mention_text(invoice)
    subject = MENTION_SUBJECTS[mention]
    if any(n.subject == subject and n.content.strip() for n in invoice.notes):
        return True
    if mention == "recovery_indemnity":
        return "indemnite forfaitaire" in text or ("recouvrement" in text and "40" in text)
    if mention == "late_penalties":
        return ("penalit" in text and "retard" in text) or "interets de retard" in text or "interet de retard" in text
    return "escompte" in text


def check_mentions(invoice: EInvoice) -> Mentions:
    """The French payment notes an invoice of a French seller must carry, and the factoring mention.

    Applicable to invoices (not credit notes) whose seller is French (country FR, or a FR VAT number).
    """
    french = invoice.seller.country == "FR" or invoice.seller.vat_number.startswith("FR")
    applicable = french and not invoice.is_credit_note
    missing = tuple(m for m in MENTIONS if applicable and not has_mention(invoice, m))
    text = _mention_text(invoice)
    subrogation = invoice.type_code in FACTORED_CODES or any(w in text for w in ("subrog", "affacturage", "factor"))
    return Mentions(applicable, missing, subrogation)


def customer_reference(buyer: Party) -> str:
    """The buyer's reference: the seller's own id for it (BT-46), else one made from its identifiers."""
    if buyer.assigned_ids:
        return buyer.assigned_ids[0][:50]
    if buyer.vat_number:
        return buyer.vat_number[:50]
    if buyer.siren:
        return f"SIREN{buyer.siren}"[:50]
    if buyer.siret:
        return f"SIRET{buyer.siret}"[:50]
    if buyer.gln:
        return f"GLN{buyer.gln}"[:50]
    for scheme, value in buyer.scheme_ids:
        if scheme:
            return f"{scheme}-{value}"[:50]
    slug = re.sub(r"[^A-Z0-9]+", "-", _strip_accents(buyer.name).upper()).strip("-")
    return f"NAME-{slug}"[:50]


# --- loading (service) --------------------------------------------------------------------------------

SOURCE = "einvoice"


@dataclass
class EInvoiceResult:
    file: str
    status: str  # created | updated | unchanged | refused
    reason: str = ""
    company: str = ""
    number: str = ""
    document_type: str = ""
    document_id: int | None = None
    customer_ref: str = ""
    customer_status: str = ""  # created | matched
    amount: Decimal | None = None
    tax_amount: Decimal | None = None
    amount_due: Decimal | None = None
    prepaid: Decimal | None = None
    currency: str = ""
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    due_date_source: str = ""  # invoice | payment_terms | customer_terms | issue_date
    syntax: str = ""
    profile: str = ""
    container: str = ""
    corrects: str = ""
    french_mentions_checked: bool = False
    missing_mentions: list[str] = field(default_factory=list)
    subrogation: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def flags(self) -> list[str]:
        out = [f"missing mention: {MENTION_LABELS[m]}" for m in self.missing_mentions]
        if self.subrogation:
            out.append("factoring: the invoice carries a subrogation mention (pay the factor)")
        return out + [f"warning: {w}" for w in self.warnings]

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k, v in out.items():
            if isinstance(v, Decimal):
                out[k] = str(v)
            elif isinstance(v, dt.date):
                out[k] = v.isoformat()
        return out


def import_einvoices(*, actor: Any, paths: list[Path], company: str = "") -> list[EInvoiceResult]:
    """Import each file on its own (one transaction each): a refused file does not stop the others."""
    return [import_einvoice(actor=actor, path=Path(p), company=company) for p in paths]


def import_einvoice(
    *, actor: Any, path: Path, company: str = "", display_name: str | None = None, preview: bool = False
) -> EInvoiceResult:
    """Import one e-invoice file; a refusal is returned (status "refused", reason), never half-written.

    ``preview`` runs the whole load in a transaction that is rolled back, without storing the file."""
    from django.db import transaction

    from relance.core import audit, clock
    from relance.orgs.models import User

    from .models import ImportRun

    name = display_name or str(path)
    data = path.read_bytes() if path.is_file() else None
    run = ImportRun.objects.create(
        kind="einvoice",
        file_name=name[:300],
        sha256=hashlib.sha256(data or b"").hexdigest(),
        started_at=clock.now(),
        actor=actor if isinstance(actor, User) else None,
        actor_label=audit.actor_label(actor),
    )
    try:
        if data is None:
            raise errors.ValidationError(f"{name}: no such file.", field="file")
        invoice, container = read_einvoice(data, name)
        with transaction.atomic():
            result = _load(actor, invoice, container, data, name, company, store_file=not preview)
            if preview:
                transaction.set_rollback(True)
    except errors.RelanceError as exc:
        message = exc.message if exc.message.startswith(name) else f"{name}: {exc.message}"
        result = EInvoiceResult(name, "refused", reason=message)
    run.company_id = _company_id(result.company)
    run.status = "refused" if result.status == "refused" else "preview" if preview else "loaded"
    run.counts = {result.status: 1}
    run.errors = [{"file": name, "row": 0, "column": "", "value": "", "reason": result.reason}] if result.reason else []
    run.error_count = 1 if result.reason else 0
    run.finished_at = clock.now()
    run.save()
    return result


def _company_id(code: str) -> int | None:
    from relance.orgs.models import Company

    return Company.objects.filter(code=code).values_list("pk", flat=True).first() if code else None


def match_seller(invoice: EInvoice, file: str, company_code: str = "") -> Any:
    """Our company that issued the invoice: by VAT number, SIREN or SIRET; else the one named by ``company_code``."""
    from relance.orgs.models import Company
    from relance.orgs.services import company_by_code

    seller = invoice.seller
    found = None
    if seller.vat_number:
        found = Company.objects.filter(vat_number=seller.vat_number).first()
    if found is None and seller.siret:
        found = Company.objects.filter(siret=seller.siret).first()
    if found is None and seller.siren:
        found = Company.objects.filter(siren=seller.siren).first()
    if company_code:
        given = company_by_code(company_code)
        if found is not None and found.pk != given.pk:
            raise errors.ValidationError(
                SELLER_OTHER_COMPANY.format(file=file, name=seller.name, found=found.code, given=given.code),
                field="company",
            )
        return given
    if found is None:
        raise errors.ValidationError(
            SELLER_UNKNOWN.format(file=file, name=seller.name, ids=seller.ids_text()), field="company"
        )
    return found


def match_buyer(company: Any, buyer: Party) -> Any:
    """The customer of ``company`` the buyer is: by the seller's id for it, VAT number, SIRET, SIREN, or the
    reference made from its identifiers. None when it is a new customer."""
    from relance.ledger.models import Customer

    accounts = Customer.objects.filter(company=company).order_by("reference")
    for ref in buyer.assigned_ids:
        found = accounts.filter(reference=ref[:50]).first()
        if found:
            return found
    for lookup, value in (("vat_number", buyer.valid_vat), ("siret", buyer.valid_siret), ("siren", buyer.valid_siren)):
        if value:
            found = accounts.filter(**{lookup: value}).first()
            if found:
                return found
    return accounts.filter(reference=customer_reference(buyer)).first()


def _country(buyer: Party, company: Any) -> str:
    for candidate in (buyer.country, buyer.vat_number[:2], company.country):
        if candidate in COUNTRIES:
            return candidate
    return company.country


def _load(
    actor: Any, invoice: EInvoice, container: str, data: bytes, file: str, company_code: str, store_file: bool = True
) -> EInvoiceResult:
    from django.core.files.base import ContentFile

    from relance.core import audit
    from relance.core.money import validate_currency
    from relance.core.vocab import DocumentType
    from relance.ledger import services as ledger
    from relance.ledger.models import Document

    from .models import EInvoiceCheck

    company = match_seller(invoice, file, company_code)
    warnings: list[str] = []
    if invoice.grand_total == 0:
        raise errors.ValidationError(ZERO_TOTAL.format(file=file), field="BT-112")
    currency = validate_currency(invoice.currency)
    buyer = invoice.buyer
    customer = match_buyer(company, buyer)
    customer_status = "matched"
    if customer is None:
        # another rendition of an invoice already imported (e.g. its PDF, then a MINIMUM XML without the
        # buyer's ids) stays with the customer it was booked to
        known = Document.objects.filter(company=company, number=invoice.number[:50]).select_related("customer")
        customer = next((d.customer for d in known), None)
    if customer is None:
        for label, given, valid in (
            ("VAT number", buyer.vat_number, buyer.valid_vat),
            ("SIREN", buyer.siren, buyer.valid_siren),
            ("SIRET", buyer.siret, buyer.valid_siret),
        ):
            if given and not valid:
                warnings.append(f"buyer {label} {given} is not valid: not stored on the customer")
        siret = buyer.valid_siret if buyer.valid_siret.startswith(buyer.valid_siren or buyer.valid_siret[:9]) else ""
        customer, _ = ledger.customer_upsert(
            actor=actor,
            company=company,
            reference=customer_reference(buyer),
            name=buyer.name[:200],
            country=_country(buyer, company),
            vat_number=buyer.valid_vat,
            siren=buyer.valid_siren if not siret else "",
            siret=siret,
        )
        customer_status = "created"
        if buyer.email and "@" in buyer.email:
            ledger.contact_upsert(actor=actor, customer=customer, email=buyer.email, is_main_ap=True)
    is_credit = invoice.is_credit_note
    due, due_source = _due_date(invoice, customer, is_credit)
    if due < invoice.issue_date:
        warnings.append(f"due date {due} is before the issue date: the issue date is used")
        due, due_source = invoice.issue_date, "issue_date"
    corrects = None
    if invoice.corrects_number and is_credit:
        corrects = Document.objects.filter(
            company=company, number=invoice.corrects_number, customer=customer, type=DocumentType.INVOICE
        ).first()
        if corrects is None:
            warnings.append(f"the corrected invoice {invoice.corrects_number} (BT-25) is not in Relance: not linked")
    if invoice.prepaid:
        warnings.append(
            f"{invoice.prepaid} {currency} already paid (BT-113): amount due {invoice.amount_due} {currency}; "
            "allocate the deposit to the invoice"
        )
    document, status = ledger.document_upsert(
        actor=actor,
        company=company,
        customer=customer,
        number=invoice.number[:50],
        type=DocumentType.CREDIT_NOTE if is_credit else DocumentType.INVOICE,
        issue_date=invoice.issue_date,
        due_date=due,
        currency=currency,
        amount=invoice.amount,
        tax_amount=invoice.tax,
        corrects=corrects,
        source=SOURCE,
    )
    mentions = check_mentions(invoice)
    digest = hashlib.sha256(data).hexdigest()
    check = EInvoiceCheck.objects.filter(document=document).first()
    if store_file and (check is None or check.sha256 != digest or not document.original_file):
        extension = ".pdf" if container == "pdf" else ".xml"
        stored = re.sub(r"[^A-Za-z0-9._-]+", "_", invoice.number)[:60] + extension
        document.original_file.save(stored, ContentFile(data), save=False)
        Document.objects.filter(pk=document.pk).update(original_file=document.original_file.name)
        audit.record(
            actor=actor,
            action="document.attach",
            obj=document,
            changes={"original_file": document.original_file.name, "sha256": digest},
        )
        status = "updated" if status == "unchanged" else status
    values = {
        "syntax": invoice.syntax,
        "container": container,
        "profile": invoice.profile[:200],
        "type_code": invoice.type_code[:3],
        "file_name": Path(file).name[:300],
        "sha256": digest,
        "french": mentions.applicable,
        "missing_mentions": list(mentions.missing),
        "subrogation": mentions.subrogation,
        "amount_due": invoice.amount_due if invoice.amount_due is None else abs(invoice.amount_due),
        "prepaid_amount": abs(invoice.prepaid),
        "due_date_source": due_source,
        "seller": invoice.seller.as_dict(),
        "buyer": buyer.as_dict(),
        "warnings": warnings,
    }
    if check is None:
        EInvoiceCheck.objects.create(document=document, **values)
    else:
        for key, value in values.items():
            setattr(check, key, value)
        check.save()
    return EInvoiceResult(
        file=file,
        status=status,
        company=company.code,
        number=document.number,
        document_type=document.type,
        document_id=document.pk,
        customer_ref=customer.reference,
        customer_status=customer_status,
        amount=document.amount,
        tax_amount=document.tax_amount,
        amount_due=values["amount_due"],
        prepaid=values["prepaid_amount"],
        currency=currency,
        issue_date=document.issue_date,
        due_date=document.due_date,
        due_date_source=due_source,
        syntax=invoice.syntax,
        profile=invoice.profile,
        container=container,
        corrects=corrects.number if corrects else "",
        french_mentions_checked=mentions.applicable,
        missing_mentions=list(mentions.missing),
        subrogation=mentions.subrogation,
        warnings=warnings,
    )


def _due_date(invoice: EInvoice, customer: Any, is_credit: bool) -> tuple[dt.date, str]:
    """BT-9 if given; else read from the payment terms (BT-20); else the customer's payment terms
    (a credit note without a due date is due at once: its issue date)."""
    if invoice.due_date is not None:
        return invoice.due_date, "invoice"
    from_terms = due_date_from_terms(invoice.payment_terms, invoice.issue_date)
    if from_terms is not None:
        return from_terms, "payment_terms"
    if is_credit:
        return invoice.issue_date, "issue_date"
    return invoice.issue_date + dt.timedelta(days=customer.payment_terms_days), "customer_terms"
