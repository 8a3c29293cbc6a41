"""Canonical layouts, mapping profiles and row validation (pure: text in, typed records or errors out).

The canonical layouts are documented in docs/imports.md. A mapping profile turns another layout
(an ERP's own export) into the canonical one: column names, date format, decimal separator, sign
convention, type codes and default values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from relance.core.money import is_currency, minor_units

KINDS = ("customers", "documents", "payments")

LAYOUTS: dict[str, dict[str, bool]] = {
    # column: required
    "customers": {
        "company": True,
        "customer_ref": True,
        "name": True,
        "country": True,
        "vat_number": False,
        "siren": False,
        "sector": False,
        "language": False,
        "payment_terms_days": False,
        "agency": False,
        "collector_email": False,
        "sales_rep_email": False,
        "email": False,
        "phone": False,
    },
    "documents": {
        "company": True,
        "customer_ref": True,
        "number": True,
        "type": True,
        "issue_date": True,
        "due_date": True,
        "currency": True,
        "amount": True,
        "tax_amount": False,
        "corrects_number": False,
    },
    "payments": {
        "company": True,
        "customer_ref": False,
        "reference": True,
        "date": True,
        "currency": True,
        "amount": True,
        "invoice_number": False,
        "allocated_amount": False,
    },
}


@dataclass(frozen=True)
class RowError:
    file: str
    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}: row {self.row}"
        if self.column:
            where += f", column {self.column}"
        value = f" {self.value!r}:" if self.value else ""
        return f"{where}:{value} {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class Profile:
    """How to read a non-canonical layout. Every part is optional; the canonical layout is ``Profile()``."""

    name: str = "canonical"
    kind: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # canonical column -> source column
    date_format: str = ""  # strptime format, e.g. "%d/%m/%Y"; empty: ISO 8601
    decimal_separator: str = ""  # "," or "."; empty: detect per value
    thousands_separator: str = ""  # e.g. " " or "."; spaces and apostrophes are always ignored
    sign: str = "type"  # "type": amounts positive, the type column gives the sign; "amount": a negative amount
    # is a credit note (documents) — the type column is then optional
    type_values: dict[str, str] = field(default_factory=dict)  # source code -> invoice|credit_note
    defaults: dict[str, str] = field(default_factory=dict)  # canonical column -> value when empty/absent
    encoding: str = ""
    delimiter: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        allowed = set(cls.__dataclass_fields__)
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(
                f"unknown profile keys: {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}"
            )
        profile = cls(**data)
        if profile.kind and profile.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if profile.sign not in ("type", "amount"):
            raise ValueError("sign must be 'type' or 'amount'")
        if profile.decimal_separator not in ("", ",", "."):
            raise ValueError("decimal_separator must be ',' or '.'")
        for value in profile.type_values.values():
            if value not in ("invoice", "credit_note"):
                raise ValueError(f"type_values must map to invoice or credit_note, not {value!r}")
        if profile.date_format:
            try:
                dt.date(2024, 12, 31).strftime(profile.date_format)
            except ValueError as exc:
                raise ValueError(f"date_format: {exc}")
        return profile

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def source(self, column: str) -> str:
        return self.columns.get(column, column)


CANONICAL = Profile()


class BadValue(ValueError):
    pass


_SPACES = re.compile(r"[\s\u00a0\u202f']")


def parse_decimal(text: str, profile: Profile = CANONICAL) -> Decimal:
    """'1 234,56', '1.234,56', '1,234.56', '-12.5', '(12.50)' → Decimal. A lone comma is the decimal separator."""
    s = _SPACES.sub("", text)
    if not s:
        raise BadValue("empty")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        s, negative = s[1:-1], True
    if s.endswith("-"):
        s, negative = s[:-1], True
    if profile.thousands_separator and profile.thousands_separator.strip():
        s = s.replace(profile.thousands_separator, "")
    sep = profile.decimal_separator
    if not sep:
        if "," in s and "." in s:
            sep = "," if s.rfind(",") > s.rfind(".") else "."
        else:
            sep = "," if "," in s else "."
    s = s.replace("." if sep == "," else ",", "")  # the other mark groups thousands
    if s.count(sep) > 1:
        raise BadValue("more than one decimal separator")
    s = s.replace(sep, ".")
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise BadValue("not a number")
    if not value.is_finite():
        raise BadValue("not a number")
    return -value if negative else value


def parse_date(text: str, profile: Profile = CANONICAL) -> dt.date:
    s = text.strip()
    if profile.date_format:
        try:
            return dt.datetime.strptime(s, profile.date_format).date()
        except ValueError:
            raise BadValue(f"not a date in the format {profile.date_format}")
    try:
        return dt.date.fromisoformat(s[:10]) if len(s) >= 10 and s[4] == "-" else dt.date.fromisoformat(s)
    except (ValueError, IndexError):
        raise BadValue("not a date in the form YYYY-MM-DD (use a mapping profile for other formats)")


@dataclass
class Row:
    """One source row being turned into a canonical record; collects its errors."""

    file: str
    number: int
    raw: dict[str, str]
    profile: Profile
    errors: list[RowError] = field(default_factory=list)

    def text(self, column: str, *, required: bool = False) -> str:
        source = self.profile.source(column)
        value = (self.raw.get(source) or "").strip()
        if not value:
            value = str(self.profile.defaults.get(column, "")).strip()
        if required and not value:
            self.fail(column, "", "is required")
        return value

    def fail(self, column: str, value: str, reason: str) -> None:
        self.errors.append(RowError(self.file, self.number, self.profile.source(column), value, reason))

    def decimal(self, column: str, *, required: bool = False, currency: str = "") -> Decimal | None:
        text = self.text(column, required=required)
        if not text:
            return None
        try:
            value = parse_decimal(text, self.profile)
        except BadValue as exc:
            self.fail(column, text, f"not a decimal amount ({exc})")
            return None
        if currency and is_currency(currency):
            places = minor_units(currency)
            if value != value.quantize(Decimal(1).scaleb(-places)):
                self.fail(column, text, f"more decimals than {currency} allows ({places})")
                return None
        return value

    def date(self, column: str, *, required: bool = False) -> dt.date | None:
        text = self.text(column, required=required)
        if not text:
            return None
        try:
            return parse_date(text, self.profile)
        except BadValue as exc:
            self.fail(column, text, str(exc))
            return None

    def integer(self, column: str, *, low: int, high: int) -> int | None:
        text = self.text(column)
        if not text:
            return None
        try:
            value = int(Decimal(text.replace(",", ".")))
        except (InvalidOperation, ValueError):
            self.fail(column, text, "not a whole number")
            return None
        if not low <= value <= high:
            self.fail(column, text, f"outside {low}..{high}")
            return None
        return value

    def currency(self, column: str = "currency") -> str:
        text = self.text(column, required=True).upper()
        if text and not is_currency(text):
            self.fail(column, text, "not an ISO 4217 currency code")
            return ""
        return text


def missing_columns(kind: str, headers: list[str], profile: Profile) -> list[str]:
    """Required canonical columns that the file lacks (and the profile gives no default for)."""
    present = {h for h in headers}
    out = []
    for column, required in LAYOUTS[kind].items():
        if not required or column in profile.defaults:
            continue
        if column == "type" and profile.sign == "amount":
            continue
        if profile.source(column) not in present:
            out.append(profile.source(column))
    return out


@dataclass(frozen=True)
class CustomerRecord:
    row: int
    company: str
    reference: str
    data: dict[str, Any]
    email: str
    phone: str


class DocumentRecord(NamedTuple):
    row: int
    company: str
    customer_ref: str
    number: str
    type: str
    issue_date: dt.date
    due_date: dt.date
    currency: str
    amount: Decimal
    tax_amount: Decimal
    corrects_number: str


class PaymentRecord(NamedTuple):
    row: int
    company: str
    customer_ref: str
    reference: str
    date: dt.date
    currency: str
    amount: Decimal
    invoice_number: str
    allocated_amount: Decimal | None


def _company(row: Row, default_company: str) -> str:
    company = row.text("company").upper() or default_company
    if not company:
        row.fail("company", "", "is required (or give --company)")
    elif default_company and company != default_company:
        row.fail("company", company, f"is not the company being imported ({default_company})")
    return company


def parse_customer(row: Row, default_company: str = "") -> CustomerRecord | None:
    company = _company(row, default_company)
    ref = row.text("customer_ref", required=True)
    data: dict[str, Any] = {"name": row.text("name", required=True), "country": row.text("country", required=True)}
    for canonical, target in (
        ("vat_number", "vat_number"),
        ("siren", "siren"),
        ("sector", "sector_code"),
        ("language", "language"),
        ("agency", "agency"),
        ("collector_email", "collector"),
        ("sales_rep_email", "sales_rep"),
    ):
        if row.profile.source(canonical) in row.raw or canonical in row.profile.defaults:
            data[target] = row.text(canonical)
    terms = row.integer("payment_terms_days", low=0, high=365)
    if terms is not None:
        data["payment_terms_days"] = terms
    if row.errors:
        return None
    return CustomerRecord(row.number, company, ref, data, row.text("email"), row.text("phone"))


def parse_document(row: Row, default_company: str = "") -> DocumentRecord | None:
    company = _company(row, default_company)
    customer_ref = row.text("customer_ref", required=True)
    number = row.text("number", required=True)
    currency = row.currency()
    amount = row.decimal("amount", required=True, currency=currency)
    tax = row.decimal("tax_amount", currency=currency)
    raw_type = row.text("type", required=row.profile.sign == "type")
    doc_type = row.profile.type_values.get(raw_type, raw_type.lower()) if raw_type else ""
    if row.profile.sign == "amount" and amount is not None:
        doc_type = doc_type or ("credit_note" if amount < 0 else "invoice")
        if tax is not None and (tax < 0) != (amount < 0) and tax != 0:
            row.fail("tax_amount", row.text("tax_amount"), "has the opposite sign of the amount")
        amount, tax = abs(amount), abs(tax) if tax is not None else None
    if raw_type and doc_type not in ("invoice", "credit_note"):
        row.fail("type", raw_type, "must be invoice or credit_note (map other codes in the profile's type_values)")
    if amount is not None and amount <= 0:
        row.fail("amount", row.text("amount"), "must be positive; the type gives the sign")
    if tax is not None and tax < 0:
        row.fail("tax_amount", row.text("tax_amount"), "must not be negative")
    if tax is not None and amount is not None and tax > amount > 0:
        row.fail("tax_amount", row.text("tax_amount"), "is larger than the amount including tax")
    issue = row.date("issue_date", required=True)
    due = row.date("due_date", required=True)
    if issue and due and due < issue:
        row.fail("due_date", row.text("due_date"), f"is before the issue date {issue}")
    if row.errors:
        return None
    assert issue and due and amount is not None
    return DocumentRecord(
        row.number,
        company,
        customer_ref,
        number,
        doc_type,
        issue,
        due,
        currency,
        amount,
        tax or Decimal(0),
        row.text("corrects_number"),
    )


def parse_payment(row: Row, default_company: str = "") -> PaymentRecord | None:
    company = _company(row, default_company)
    reference = row.text("reference", required=True)
    currency = row.currency()
    amount = row.decimal("amount", required=True, currency=currency)
    allocated = row.decimal("allocated_amount", currency=currency)
    invoice = row.text("invoice_number")
    day = row.date("date", required=True)
    if amount is not None and amount <= 0:
        row.fail("amount", row.text("amount"), "must be positive")
    if allocated is not None and allocated <= 0:
        row.fail("allocated_amount", row.text("allocated_amount"), "must be positive")
    if allocated is not None and not invoice:
        row.fail("invoice_number", "", "is required when allocated_amount is given")
    if invoice and allocated is None and amount is not None:
        allocated = amount  # the whole payment goes to that invoice
    if row.errors:
        return None
    assert day and amount is not None
    return PaymentRecord(
        row.number, company, row.text("customer_ref"), reference, day, currency, amount, invoice, allocated
    )


PARSERS = {"customers": parse_customer, "documents": parse_document, "payments": parse_payment}


# --- the fast path ---------------------------------------------------------------------------------
#
# Most rows of a large file are well formed. For those, the parsers below build the same record as
# parse_document / parse_payment without a Row object, looking each column up once and memoising
# what many rows share (dates, currencies, companies, type codes). They are optimistic: on the first
# doubt (an empty required cell, an amount that is not plain digits, any check that would fail) they
# answer None, and the caller runs the exact parser above, which gives the record or its errors.
# So errors always come from one place, and a record is the same whichever path built it.

FastParser = Callable[[int, dict[str, str]], Any]
_PLAIN_AMOUNTS = {
    places: re.compile(rf"[0-9]+(?:\.[0-9]{{1,{places}}})?" if places else r"[0-9]+") for places in range(5)
}
_MEMO_LIMIT = 50_000  # entries per memo: malformed files cannot grow them without bound
_ZERO = Decimal(0)


class _Shared:
    """What the rows of one file share: parsed dates, currencies and company codes."""

    def __init__(self, profile: Profile, default_company: str) -> None:
        self.profile = profile
        self.default_company = default_company
        self.dates: dict[str, dt.date | None] = {}
        self.currencies: dict[str, tuple[str, re.Pattern[str]] | None] = {}
        self.companies: dict[str, str | None] = {}
        self.plain = not profile.thousands_separator.strip() and profile.decimal_separator in ("", ".")
        self.defaults = {c: str(v).strip() for c, v in profile.defaults.items()}

    def source(self, column: str) -> tuple[str, str]:
        return self.profile.source(column), self.defaults.get(column, "")

    def date(self, text: str) -> dt.date | None:
        try:
            return self.dates[text]
        except KeyError:
            pass
        try:
            value: dt.date | None = parse_date(text, self.profile) if text else None
        except BadValue:
            value = None
        if len(self.dates) >= _MEMO_LIMIT:
            self.dates.clear()
        self.dates[text] = value
        return value

    def currency(self, text: str) -> tuple[str, re.Pattern[str]] | None:
        try:
            return self.currencies[text]
        except KeyError:
            pass
        code = text.upper()
        found = (code, _PLAIN_AMOUNTS.get(minor_units(code), _PLAIN_AMOUNTS[0])) if is_currency(code) else None
        if len(self.currencies) >= _MEMO_LIMIT:
            self.currencies.clear()
        self.currencies[text] = found
        return found

    def company(self, text: str) -> str | None:
        try:
            return self.companies[text]
        except KeyError:
            pass
        code = text.upper() or self.default_company
        found = code if code and not (self.default_company and code != self.default_company) else None
        if len(self.companies) >= _MEMO_LIMIT:
            self.companies.clear()
        self.companies[text] = found
        return found


def _fast_documents(profile: Profile, default_company: str) -> FastParser | None:
    if profile.sign != "type":
        return None
    shared = _Shared(profile, default_company)
    if not shared.plain:
        return None
    company_s, company_d = shared.source("company")
    customer_s, customer_d = shared.source("customer_ref")
    number_s, number_d = shared.source("number")
    type_s, type_d = shared.source("type")
    issue_s, issue_d = shared.source("issue_date")
    due_s, due_d = shared.source("due_date")
    currency_s, currency_d = shared.source("currency")
    amount_s, amount_d = shared.source("amount")
    tax_s, tax_d = shared.source("tax_amount")
    corrects_s, corrects_d = shared.source("corrects_number")
    type_values = profile.type_values
    types: dict[str, str | None] = {}
    date, currency_of, company_of = shared.date, shared.currency, shared.company

    def parse(number: int, raw: dict[str, str]) -> DocumentRecord | None:
        get = raw.get  # a cell: (get(source) or default).strip() or default, as Row.text reads it
        company = company_of((get(company_s) or company_d).strip() or company_d)
        customer_ref = (get(customer_s) or customer_d).strip() or customer_d
        doc_number = (get(number_s) or number_d).strip() or number_d
        currency = currency_of((get(currency_s) or currency_d).strip() or currency_d)
        if company is None or not customer_ref or not doc_number or currency is None:
            return None
        plain = currency[1].fullmatch
        text = (get(amount_s) or amount_d).strip() or amount_d
        if not plain(text):
            return None
        amount = Decimal(text)
        text = (get(tax_s) or tax_d).strip() or tax_d
        if text:
            if not plain(text):
                return None
            tax = Decimal(text)
            if tax > amount:
                return None
        else:
            tax = _ZERO
        if amount <= 0:
            return None
        text = (get(type_s) or type_d).strip() or type_d
        try:
            doc_type = types[text]
        except KeyError:
            doc_type = type_values.get(text, text.lower()) if text else None
            doc_type = doc_type if doc_type in ("invoice", "credit_note") else None
            if len(types) >= _MEMO_LIMIT:
                types.clear()
            types[text] = doc_type
        issue = date((get(issue_s) or issue_d).strip() or issue_d)
        due = date((get(due_s) or due_d).strip() or due_d)
        if doc_type is None or issue is None or due is None or due < issue:
            return None
        return DocumentRecord(
            number,
            company,
            customer_ref,
            doc_number,
            doc_type,
            issue,
            due,
            currency[0],
            amount,
            tax or _ZERO,
            (get(corrects_s) or corrects_d).strip() or corrects_d,
        )

    return parse


def _fast_payments(profile: Profile, default_company: str) -> FastParser | None:
    shared = _Shared(profile, default_company)
    if not shared.plain:
        return None
    company_s, company_d = shared.source("company")
    customer_s, customer_d = shared.source("customer_ref")
    reference_s, reference_d = shared.source("reference")
    date_s, date_d = shared.source("date")
    currency_s, currency_d = shared.source("currency")
    amount_s, amount_d = shared.source("amount")
    invoice_s, invoice_d = shared.source("invoice_number")
    allocated_s, allocated_d = shared.source("allocated_amount")
    date, currency_of, company_of = shared.date, shared.currency, shared.company

    def parse(number: int, raw: dict[str, str]) -> PaymentRecord | None:
        get = raw.get  # a cell: (get(source) or default).strip() or default, as Row.text reads it
        company = company_of((get(company_s) or company_d).strip() or company_d)
        reference = (get(reference_s) or reference_d).strip() or reference_d
        currency = currency_of((get(currency_s) or currency_d).strip() or currency_d)
        day = date((get(date_s) or date_d).strip() or date_d)
        if company is None or not reference or currency is None or day is None:
            return None
        plain = currency[1].fullmatch
        text = (get(amount_s) or amount_d).strip() or amount_d
        if not plain(text):
            return None
        amount = Decimal(text)
        if amount <= 0:
            return None
        invoice = (get(invoice_s) or invoice_d).strip() or invoice_d
        text = (get(allocated_s) or allocated_d).strip() or allocated_d
        if text:
            if not invoice or not plain(text):
                return None
            allocated: Decimal | None = Decimal(text)
            if allocated <= 0:  # type: ignore[operator]
                return None
        else:
            allocated = amount if invoice else None
        return PaymentRecord(
            number,
            company,
            (get(customer_s) or customer_d).strip() or customer_d,
            reference,
            day,
            currency[0],
            amount,
            invoice,
            allocated,
        )

    return parse


def fast_parser(kind: str, profile: Profile, default_company: str = "") -> FastParser | None:
    """A parser for the well-formed rows of ``kind`` (None: the layout or profile has none; use PARSERS).

    ``parser(row_number, raw)`` returns the record that PARSERS[kind] would return, or None when the row
    needs the exact parser (it may be valid in a form the fast path does not read, or invalid).
    """
    if kind == "documents":
        return _fast_documents(profile, default_company)
    if kind == "payments":
        return _fast_payments(profile, default_company)
    return None
