"""Schemas of the bulk upserts (``POST /customers/bulk``, ``/documents/bulk``, ``/payments/bulk``).

The items carry the canonical columns of the import files (docs/imports.md), with the same names and
the same validation: an API item and a file row are read by the same code (relance.ingest.rows).
The item models below document the request in the OpenAPI; the endpoints read the body themselves
(up to :data:`MAX_BODY_BYTES`, above Django's 2.5 MB default) so that each bad item can be reported,
and skipped with ``?partial=true``, rather than the whole body refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.conf import settings
from ninja import Field, Schema
from pydantic import ConfigDict

from relance.api.problems import InvalidInput
from relance.ingest.rows import LAYOUTS

MAX_ITEMS = 10_000
MAX_BODY_BYTES: int = getattr(settings, "RELANCE_BULK_MAX_BYTES", 32 * 1024 * 1024)
AMOUNT_FIELDS = frozenset({"amount", "tax_amount", "allocated_amount"})

_AMOUNT = {"format": "decimal", "examples": ["1200.00"]}
AMOUNT_NOTE = 'A decimal string such as "1200.00" (a JSON integer is accepted; a JSON float is refused).'


class _Item(Schema):
    model_config = ConfigDict(extra="forbid")


class CustomerItem(_Item):
    """A customer account, created or updated by (company, customer_ref)."""

    company: str = Field(max_length=20, description="Company code.", examples=["FR1"])
    customer_ref: str = Field(max_length=50, description="The account reference in the company (ERP code).")
    name: str = Field(max_length=200, description="Legal name.")
    country: str = Field(description="ISO 3166 country code, e.g. FR.")
    vat_number: str | None = Field(None, max_length=20)
    siren: str | None = Field(None, description="9 digits, with a valid check digit.")
    sector: str | None = Field(None, description="Sector code (NAF/NACE), at most 10 characters kept.")
    language: str | None = Field(None, description="fr or en: the language of letters and e-mails.")
    payment_terms_days: int | None = Field(None, ge=0, le=365)
    agency: str | None = Field(
        None, max_length=20, description="Agency code, in the customer's company; empty: no agency."
    )
    collector_email: str | None = Field(
        None, max_length=254, description="E-mail of the Relance user who collects the account."
    )
    sales_rep_email: str | None = Field(None, max_length=254, description="E-mail of the account's sales rep.")
    email: str | None = Field(None, max_length=254, description="Main accounts-payable contact's e-mail.")
    phone: str | None = Field(None, max_length=40, description="Main accounts-payable contact's phone.")


class DocumentItem(_Item):
    """An invoice or credit note, created or updated by (company, number)."""

    company: str = Field(max_length=20, description="Company code.", examples=["FR1"])
    customer_ref: str = Field(max_length=50, description="The customer's reference (it must exist).")
    number: str = Field(max_length=50, description="Document number, unique in the company.")
    type: Literal["invoice", "credit_note"]
    issue_date: dt.date
    due_date: dt.date = Field(description="On or after the issue date.")
    currency: str = Field(description="ISO 4217 code.", examples=["EUR"])
    amount: str = Field(description="Amount including tax, positive. " + AMOUNT_NOTE, json_schema_extra=_AMOUNT)
    tax_amount: str | None = Field(None, description="Tax included in the amount. " + AMOUNT_NOTE)
    corrects_number: str | None = Field(None, max_length=50, description="A credit note's invoice number.")


class PaymentItem(_Item):
    """A payment, created or updated by (company, reference). Several items with one reference split the
    payment over several invoices (amount, currency, date and customer repeated on each)."""

    company: str = Field(max_length=20, description="Company code.", examples=["FR1"])
    customer_ref: str | None = Field(None, max_length=50, description="The payer; empty: taken from the invoice.")
    reference: str = Field(max_length=80, description="Payment reference, unique in the company.")
    date: dt.date
    currency: str = Field(examples=["EUR"])
    amount: str = Field(description="The whole payment, positive. " + AMOUNT_NOTE, json_schema_extra=_AMOUNT)
    invoice_number: str | None = Field(None, max_length=50, description="An invoice the payment settles.")
    allocated_amount: str | None = Field(
        None, description="What goes to invoice_number (default: the whole amount). " + AMOUNT_NOTE
    )


class CustomerBulkIn(Schema):
    items: list[CustomerItem] = Field(max_length=MAX_ITEMS)


class DocumentBulkIn(Schema):
    items: list[DocumentItem] = Field(max_length=MAX_ITEMS)


class PaymentBulkIn(Schema):
    items: list[PaymentItem] = Field(max_length=MAX_ITEMS)


ITEM_MODELS: dict[str, type[_Item]] = {"customers": CustomerItem, "documents": DocumentItem, "payments": PaymentItem}
BODY_MODELS: dict[str, type[Schema]] = {
    "customers": CustomerBulkIn,
    "documents": DocumentBulkIn,
    "payments": PaymentBulkIn,
}
# The documented fields are exactly the file layouts' columns (a test holds them together).
FIELDS: dict[str, tuple[str, ...]] = {kind: tuple(LAYOUTS[kind]) for kind in LAYOUTS}
MAX_LENGTHS: dict[str, dict[str, int]] = {
    kind: {
        name: next((m.max_length for m in info.metadata if hasattr(m, "max_length")), 0)
        for name, info in model.model_fields.items()
    }
    for kind, model in ITEM_MODELS.items()
}


# --- responses ------------------------------------------------------------------------------------

ItemStatus = Literal["created", "updated", "unchanged", "rejected"]


class ItemResult(Schema):
    index: int = Field(description="The item's position in the request, from 0.")
    status: ItemStatus
    id: int | None = Field(description="The customer, document or payment written; null when rejected.")
    errors: list[InvalidInput] = Field(description="Why the item was rejected; empty otherwise.")


class BulkCounts(Schema):
    received: int
    created: int
    updated: int
    unchanged: int
    rejected: int


class BulkResultOut(Schema):
    status: Literal["loaded", "partial"] = Field(
        description="loaded: every item was valid; partial (with ?partial=true): some were rejected."
    )
    counts: BulkCounts
    results: list[ItemResult] = Field(description="One per item, in the order of the request.")


# --- OpenAPI --------------------------------------------------------------------------------------


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema with its ``$defs`` inlined (a request body documented in place)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)  # type: ignore[no-any-return]


def request_body(kind: str) -> dict[str, Any]:
    """The ``openapi_extra`` of a bulk endpoint: its JSON request body."""
    schema = _inline(BODY_MODELS[kind].model_json_schema())
    return {
        "requestBody": {
            "required": True,
            "description": f"Up to {MAX_ITEMS:,} {kind}, in the canonical layout of the import files.",
            "content": {"application/json": {"schema": schema}},
        }
    }
