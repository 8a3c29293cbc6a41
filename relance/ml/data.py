"""Reading a company's history from the ledger into ``InvoiceFacts`` (system reads for the daily job and CLI).

These functions read for the operator (the scheduler or the command line), company by company; reads for a
user go through ``selectors.py`` and ``relance.core.scope``.

* An invoice's ``settled_on`` counts as a payment date only when the invoice was settled by cash or a credit
  note: one closed by the source system or written off (``ledger.models.NON_CASH_SOURCES``) was never
  paid, so it is kept as "not paid" (it still counts as an unpaid overdue invoice until its closure date
  is unknown to the model: it simply has no payment).
* Disputes come from ``collections.Dispute`` (opened_on); reminders from ``collections.Activity`` when that
  model exists (kinds reminder_sent, letter_sent, sms_sent; ``data["documents"]`` lists the invoices).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.apps import apps
from django.db.models import Exists, OuterRef
from django.utils import timezone

from relance.core.vocab import DocumentType
from relance.ledger.models import NON_CASH_SOURCES, Allocation, Document

from .features import InvoiceFacts

REMINDER_KINDS = ("reminder_sent", "letter_sent", "sms_sent")


def _reminders(company_id: int, numbers: dict[str, int]) -> dict[int, list[dt.date]]:
    """Reminder dates per document id; empty when the collections activity log does not exist (yet).

    ``data["documents"]`` lists document numbers (ids and ``{"id": ...}`` objects are understood too)."""
    try:
        activity = apps.get_model("collections", "Activity")
    except LookupError:
        return {}
    out: dict[int, list[dt.date]] = defaultdict(list)
    rows = activity.objects.filter(company_id=company_id, kind__in=REMINDER_KINDS).values_list("at", "data")
    for at, data in rows.iterator(chunk_size=5000):
        docs = (data or {}).get("documents") or []
        for doc in docs:
            doc_id = doc.get("id") if isinstance(doc, dict) else doc
            if isinstance(doc_id, str):
                doc_id = numbers.get(doc_id)
            if isinstance(doc_id, int):
                out[doc_id].append(timezone.localtime(at).date())
    return out


def _disputes(company_id: int) -> dict[int, list[dt.date]]:
    dispute = apps.get_model("collections", "Dispute")
    out: dict[int, list[dt.date]] = defaultdict(list)
    through = dispute.documents.through
    rows = through.objects.filter(dispute__company_id=company_id).values_list("document_id", "dispute__opened_on")
    for doc_id, opened in rows.iterator(chunk_size=5000):
        out[doc_id].append(opened)
    return out


def company_history(company_id: int) -> dict[int, list[InvoiceFacts]]:
    """Every invoice of the company, as facts, grouped by customer id (key = document id)."""
    non_cash = Allocation.objects.filter(target=OuterRef("pk"), source__in=NON_CASH_SOURCES, reverses__isnull=True)
    docs = (
        Document.objects.filter(company_id=company_id, type=DocumentType.INVOICE)
        .annotate(non_cash=Exists(non_cash))
        .values_list(
            "pk", "customer_id", "issue_date", "due_date", "amount", "currency", "settled_on", "non_cash", "number"
        )
        .order_by("customer_id", "issue_date", "pk")
    )
    rows = list(docs.iterator(chunk_size=5000))
    disputes = _disputes(company_id)
    reminders = _reminders(company_id, {r[-1]: r[0] for r in rows})
    out: dict[int, list[InvoiceFacts]] = defaultdict(list)
    for pk, customer_id, issue, due, amount, currency, settled, non_cash_closed, _number in rows:
        out[customer_id].append(
            InvoiceFacts(
                key=pk,
                issue_date=issue,
                due_date=due,
                amount=amount,
                currency=currency,
                settled_on=None if non_cash_closed else settled,
                disputes=tuple(sorted(disputes.get(pk, ()))),
                reminders=tuple(sorted(reminders.get(pk, ()))),
            )
        )
    return dict(out)


def open_invoice_ids(company_id: int) -> set[int]:
    return set(
        Document.objects.filter(company_id=company_id, type=DocumentType.INVOICE, open_amount__gt=0).values_list(
            "pk", flat=True
        )
    )


def describe(history: dict[int, list[InvoiceFacts]]) -> dict[str, Any]:
    n = sum(len(v) for v in history.values())
    settled = sum(1 for v in history.values() for inv in v if inv.settled_on is not None)
    return {"customers": len(history), "invoices": n, "settled": settled}
