"""What the API reads and writes, for every domain router.

Conventions, the same on every endpoint:

* ids are integers; companies and agencies are named by their code (``"FR1"``), as in the filters;
* amounts are decimal strings quantized to the currency's minor unit (``"1200.00"`` EUR, ``"1200"`` JPY),
  always next to their ``currency``; never floats;
* business dates are ``YYYY-MM-DD``; instants (``created_at``, ``updated_at``) are ISO 8601 with a time zone;
* a text field that is not filled is ``null``, not ``""``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, field_validator
from pydantic_core import PydanticCustomError

from relance.core import errors
from relance.core.money import is_currency, quantize
from relance.core.vocab import (
    CompanySize,
    ContactRole,
    CustomerKind,
    DocumentType,
    PayerProfile,
    PaymentKind,
    PaymentMethod,
    RiskClass,
)
from relance.ledger import selectors

# --- shared types -----------------------------------------------------------------------------

Amount = Annotated[
    str,
    Field(
        pattern=r"^-?\d+(\.\d+)?$",
        description="A decimal amount as a string, quantized to the currency's minor unit.",
        json_schema_extra={"format": "decimal", "examples": ["1200.00"]},
    ),
]
CurrencyCode = Annotated[str, Field(description="ISO 4217 currency code.", examples=["EUR"])]


def money(amount: Decimal | None, currency: str) -> str:
    """An amount as the API writes it: a decimal string with the currency's minor unit ("1200.00")."""
    return str(quantize(amount if amount is not None else Decimal(0), currency))


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


# --- query parameters -------------------------------------------------------------------------

UNKNOWN_PARAMETER = "Unknown query parameter; accepted parameters are: {accepted}."
NAIVE_TIMES_NOTE = "A date or time without a zone is read in the installation's time zone."

_SPACE_FOR_PLUS = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+) (\d\d(:?\d\d)?)$")


def _unmangle_plus(value: Any) -> Any:
    """'2026-06-01T10:00:00+02:00' sent unencoded arrives with a space for the '+': put it back."""
    if isinstance(value, str):
        return _SPACE_FOR_PLUS.sub(r"\1+\2", value.strip())
    return value


def _aware(value: dt.datetime) -> dt.datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _currency(value: str) -> str:
    if not is_currency(value):
        raise PydanticCustomError("unknown_currency", errors.UNKNOWN_CURRENCY.format(value=value))
    return value.upper()


QueryDatetime = Annotated[dt.datetime, BeforeValidator(_unmangle_plus), AfterValidator(_aware)]
QueryCurrency = Annotated[str, AfterValidator(_currency)]


class QuerySchema(Schema):
    """Filters read from the query string. An empty value (``?currency=``) means the filter is not set."""

    model_config = {"str_strip_whitespace": True}

    @field_validator("*", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


UPDATED_SINCE = "Only rows changed at or after this instant (ISO 8601, e.g. 2026-06-01T00:00:00Z). " + NAIVE_TIMES_NOTE
OVERDUE_AS_OF = "Evaluated on today's business date."


class CustomerQuery(QuerySchema):
    q: str | None = Field(None, max_length=200, description="Part of the name or reference, or an exact SIREN/VAT.")
    company: str | None = Field(None, max_length=20, description="Company code, e.g. FR1.")
    agency: str | None = Field(None, max_length=20, description="Agency code, e.g. PAR.")
    collector: int | None = Field(None, ge=1, description="User id of the customer's collector.")
    currency: QueryCurrency | None = Field(None, description="Customers with documents in this currency.")
    overdue: bool | None = Field(
        None, description="true: customers with an overdue open invoice; false: without one. " + OVERDUE_AS_OF
    )
    updated_since: QueryDatetime | None = Field(None, description=UPDATED_SINCE)

    def to_filters(self) -> selectors.CustomerFilters:
        return selectors.CustomerFilters(
            q=self.q or "",
            company=self.company or "",
            agency=self.agency or "",
            collector=self.collector,
            currency=self.currency or "",
            updated_since=self.updated_since,
        )


class DocumentQuery(QuerySchema):
    q: str | None = Field(None, max_length=200, description="Part of the document number or customer name.")
    company: str | None = Field(None, max_length=20, description="Company code, e.g. FR1.")
    customer: int | None = Field(None, ge=1, description="Customer id.")
    type: DocumentType | None = Field(None, description="invoice or credit_note.")
    currency: QueryCurrency | None = None
    status: Literal["open", "settled"] | None = Field(None, description="open: something left to pay; settled: none.")
    overdue: bool | None = Field(
        None, description="true: open invoices past their due date; false: all other documents. " + OVERDUE_AS_OF
    )
    updated_since: QueryDatetime | None = Field(None, description=UPDATED_SINCE)

    def to_filters(self) -> selectors.DocumentFilters:
        return selectors.DocumentFilters(
            q=self.q or "",
            company=self.company or "",
            customer=self.customer,
            type=self.type.value if self.type else "",
            currency=self.currency or "",
            status=self.status or "",
            updated_since=self.updated_since,
        )


class PaymentQuery(QuerySchema):
    company: str | None = Field(None, max_length=20, description="Company code, e.g. FR1.")
    customer: int | None = Field(None, ge=1, description="Customer id.")
    currency: QueryCurrency | None = None
    unallocated: bool | None = Field(
        None, description="true: payments with an amount not yet allocated; false: fully allocated ones."
    )
    updated_since: QueryDatetime | None = Field(None, description=UPDATED_SINCE)

    def to_filters(self) -> selectors.PaymentFilters:
        return selectors.PaymentFilters(
            company=self.company or "",
            customer=self.customer,
            currency=self.currency or "",
            updated_since=self.updated_since,
        )


# --- references -------------------------------------------------------------------------------


class UserRef(Schema):
    id: int
    email: str
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return obj.get_full_name() or obj.email


class CustomerRef(Schema):
    id: int
    reference: str
    name: str


class DocumentRef(Schema):
    id: int
    number: str
    type: DocumentType


class PaymentRef(Schema):
    id: int
    reference: str


class LegalEntityOut(Schema):
    """The legal person behind customer accounts (one per SIREN/VAT across companies)."""

    id: int
    name: str
    siren: str | None
    vat_number: str | None

    _blanks = field_validator("siren", "vat_number", mode="before")(_blank_to_none)


class ContactOut(Schema):
    id: int
    name: str | None
    email: str | None
    phone: str | None
    role: ContactRole
    is_main_ap: bool = Field(description="The main accounts-payable contact: dunning goes to them.")
    language: str | None

    _blanks = field_validator("name", "email", "phone", "language", mode="before")(_blank_to_none)


class BalanceOut(Schema):
    """A customer's open position in one currency (never converted)."""

    currency: CurrencyCode
    invoices_open: Amount
    credit_notes_open: Amount
    unallocated_cash: Amount
    overdue: Amount = Field(description="Open amount of invoices past their due date, today.")
    net: Amount = Field(description="invoices_open - credit_notes_open - unallocated_cash.")

    @staticmethod
    def resolve_invoices_open(obj: selectors.Balance) -> str:
        return money(obj.invoices_open, obj.currency)

    @staticmethod
    def resolve_credit_notes_open(obj: selectors.Balance) -> str:
        return money(obj.credit_notes_open, obj.currency)

    @staticmethod
    def resolve_unallocated_cash(obj: selectors.Balance) -> str:
        return money(obj.unallocated_cash, obj.currency)

    @staticmethod
    def resolve_overdue(obj: selectors.Balance) -> str:
        return money(obj.overdue, obj.currency)

    @staticmethod
    def resolve_net(obj: selectors.Balance) -> str:
        return money(obj.net, obj.currency)


# --- customers --------------------------------------------------------------------------------


class CustomerOut(Schema):
    id: int
    company: str = Field(description="Company code.")
    reference: str = Field(description="The customer's account reference in its company (ERP code).")
    name: str
    legal_entity_id: int | None
    siren: str | None
    siret: str | None
    vat_number: str | None
    country: str
    language: str
    sector_code: str | None
    size: CompanySize | None
    kind: CustomerKind
    strategic: bool
    payment_terms_days: int
    agency: str | None = Field(description="Agency code.")
    collector: UserRef | None
    sales_rep: UserRef | None
    payer_profile: PayerProfile | None = Field(description="How the customer pays, from history; null until known.")
    risk_class: RiskClass | None = Field(description="A (lowest risk) to E, X in insolvency; null until scored.")
    score: int | None = Field(description="Solvency score 0 (worst) to 100; null until scored. docs/risk.md.")
    score_reasons: list[str] = Field(description="What drove the score, worst first, in words.")
    credit_limit_recommended: Amount | None = Field(description="Recommended credit limit (company currency).")
    credit_limit_granted: Amount | None = Field(description="Granted credit limit while valid; null if none.")
    exposure: Amount = Field(description="Open receivables + open orders - deposits, in the company currency.")
    credit_currency: CurrencyCode = Field(description="The company's currency: limits and exposure are in it.")
    blocked: bool = Field(description="No new credit (the credit check answers block).")
    created_at: dt.datetime
    updated_at: dt.datetime

    _blanks = field_validator(
        "siren", "siret", "vat_number", "sector_code", "size", "payer_profile", "risk_class", mode="before"
    )(_blank_to_none)

    @staticmethod
    def resolve_company(obj: Any) -> str:
        return obj.company.code

    @staticmethod
    def resolve_agency(obj: Any) -> str | None:
        return obj.agency.code if obj.agency_id else None

    @staticmethod
    def resolve_score(obj: Any) -> int | None:
        return _credit(obj).score

    @staticmethod
    def resolve_score_reasons(obj: Any) -> list[str]:
        return _credit(obj).reasons

    @staticmethod
    def resolve_credit_limit_recommended(obj: Any) -> str | None:
        value = _credit(obj).recommended
        return None if value is None else money(value, obj.company.currency)

    @staticmethod
    def resolve_credit_limit_granted(obj: Any) -> str | None:
        value = _credit(obj).granted
        return None if value is None else money(value, obj.company.currency)

    @staticmethod
    def resolve_exposure(obj: Any) -> str:
        return money(_credit(obj).exposure.total, obj.company.currency)

    @staticmethod
    def resolve_credit_currency(obj: Any) -> str:
        return obj.company.currency

    @staticmethod
    def resolve_blocked(obj: Any) -> bool:
        return _credit(obj).blocked


def _credit(customer: Any) -> Any:
    from relance.risk.selectors import credit_summary

    return credit_summary(customer)


class CustomerDetailOut(CustomerOut):
    legal_entity: LegalEntityOut | None
    contacts: list[ContactOut] = Field(description="Main accounts-payable contact first.")
    balances: list[BalanceOut] = Field(description="Open position per currency, as of today.")


# --- documents and payments -------------------------------------------------------------------


class AllocationOut(Schema):
    """A payment or credit note applied to an invoice; a reversal has a negative amount and ``reverses``."""

    id: int
    target: DocumentRef = Field(description="The invoice paid.")
    source: Literal["payment", "credit_note"]
    payment: PaymentRef | None
    credit_note: DocumentRef | None
    currency: CurrencyCode
    amount: Amount
    date: dt.date
    reverses_id: int | None = Field(description="The allocation this row reverses.")
    created_at: dt.datetime

    @staticmethod
    def resolve_source(obj: Any) -> str:
        return "payment" if obj.payment_id else "credit_note"

    @staticmethod
    def resolve_amount(obj: Any) -> str:
        return money(obj.amount, obj.currency)


class DocumentOut(Schema):
    id: int
    company: str = Field(description="Company code.")
    customer: CustomerRef
    number: str
    type: DocumentType
    issue_date: dt.date
    due_date: dt.date
    currency: CurrencyCode
    amount: Amount = Field(description="Amount including tax, positive; the type gives the sign.")
    tax_amount: Amount
    open_amount: Amount = Field(description="What is left to pay (invoice) or to use (credit note).")
    status: Literal["open", "settled"]
    settled_on: dt.date | None
    corrects_id: int | None = Field(description="The document this one corrects (a credit note's invoice).")
    source: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_company(obj: Any) -> str:
        return obj.company.code

    @staticmethod
    def resolve_amount(obj: Any) -> str:
        return money(obj.amount, obj.currency)

    @staticmethod
    def resolve_tax_amount(obj: Any) -> str:
        return money(obj.tax_amount, obj.currency)

    @staticmethod
    def resolve_open_amount(obj: Any) -> str:
        return money(obj.open_amount, obj.currency)

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return "open" if obj.open_amount > 0 else "settled"


class DocumentDetailOut(DocumentOut):
    allocations: list[AllocationOut] = Field(
        description="Applied to this invoice, or, for a credit note, made from it; oldest first."
    )

    @staticmethod
    def resolve_allocations(obj: Any) -> list[Any]:
        return obj.visible_allocations


class PaymentOut(Schema):
    id: int
    company: str = Field(description="Company code.")
    customer: CustomerRef | None = Field(description="null while the payer is unidentified.")
    reference: str
    kind: PaymentKind
    date: dt.date
    currency: CurrencyCode
    amount: Amount
    unallocated_amount: Amount = Field(description="What is not yet applied to invoices.")
    method: PaymentMethod
    bank_reference: str | None
    payer_name: str | None
    source: str
    created_at: dt.datetime
    updated_at: dt.datetime

    _blanks = field_validator("bank_reference", "payer_name", mode="before")(_blank_to_none)

    @staticmethod
    def resolve_company(obj: Any) -> str:
        return obj.company.code

    @staticmethod
    def resolve_amount(obj: Any) -> str:
        return money(obj.amount, obj.currency)

    @staticmethod
    def resolve_unallocated_amount(obj: Any) -> str:
        return money(obj.unallocated_amount, obj.currency)


class PaymentDetailOut(PaymentOut):
    allocations: list[AllocationOut] = Field(description="Oldest first.")

    @staticmethod
    def resolve_allocations(obj: Any) -> list[Any]:
        return obj.visible_allocations


# --- me ---------------------------------------------------------------------------------------


class MeOut(Schema):
    id: int
    email: str
    name: str
    role: str
    language: str
    scope_level: Literal["group", "companies", "agencies", "portfolio", "nothing"] = Field(
        description="group: everything; companies / agencies: those listed; portfolio: own customers."
    )
    companies: list[str] = Field(description="Codes of the companies the caller can see data of.")
    agencies: list[str] = Field(description="Codes of the agencies the caller can see data of.")
    permissions: list[str] = Field(description="Actions the caller's role allows, within the scope.")
