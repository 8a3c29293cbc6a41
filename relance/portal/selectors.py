"""What a portal link may read. The portal has no user: the link is the scope (one customer of one company),
and every query here starts from it, so no id typed into a URL reaches another customer's records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from relance.collections.models import Dispute, DisputeStatus, Promise, PromiseStatus
from relance.core import clock
from relance.core.money import Money, quantize
from relance.core.vocab import DocumentType
from relance.ledger.models import Document, Payment

from .models import DisputeAttachment, PaymentSelection, PaymentSession, PortalLink
from .payments import open_invoices


@dataclass(frozen=True)
class OpenInvoice:
    document: Document
    overdue_days: int
    disputed: bool
    promised: bool


def invoices(link: PortalLink, *, as_of: dt.date) -> list[OpenInvoice]:
    docs = list(open_invoices(link))
    ids = [d.pk for d in docs]
    disputed = set(
        Dispute.documents.through.objects.filter(document_id__in=ids, dispute__status=DisputeStatus.OPEN).values_list(
            "document_id", flat=True
        )
    )
    promised = set(
        Promise.documents.through.objects.filter(document_id__in=ids, promise__status=PromiseStatus.OPEN).values_list(
            "document_id", flat=True
        )
    )
    return [OpenInvoice(d, max(0, (as_of - d.due_date).days), d.pk in disputed, d.pk in promised) for d in docs]


def totals(rows: list[OpenInvoice], *, as_of: dt.date) -> list[dict[str, Any]]:
    """Open and overdue totals per currency."""
    out: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        d = row.document
        t = out.setdefault(d.currency, {"open": Decimal(0), "overdue": Decimal(0)})
        t["open"] += d.open_amount
        if d.due_date < as_of:
            t["overdue"] += d.open_amount
    return [
        {"open": Money(quantize(t["open"], c), c), "overdue": Money(quantize(t["overdue"], c), c)}
        for c, t in sorted(out.items())
    ]


def document(link: PortalLink, pk: int) -> Document | None:
    """One of the customer's documents with this company (any state), else None."""
    return Document.objects.filter(pk=pk, customer_id=link.customer_id, company_id=link.company_id).first()


def selection(link: PortalLink, pk: int) -> PaymentSelection | None:
    return PaymentSelection.objects.filter(pk=pk, customer_id=link.customer_id).first()


def last_session(link: PortalLink, selection_obj: PaymentSelection) -> PaymentSession | None:
    return PaymentSession.objects.filter(selection=selection_obj, customer_id=link.customer_id).first()


def attachment(link: PortalLink, pk: int) -> DisputeAttachment | None:
    return DisputeAttachment.objects.filter(pk=pk, customer_id=link.customer_id, company_id=link.company_id).first()


def disputes(link: PortalLink) -> QuerySet[Dispute]:
    return (
        Dispute.objects.filter(customer_id=link.customer_id, company_id=link.company_id)
        .prefetch_related("documents", "portal_attachments")
        .order_by("-opened_on", "-id")[:20]
    )


def promises(link: PortalLink) -> QuerySet[Promise]:
    return (
        Promise.objects.filter(customer_id=link.customer_id, company_id=link.company_id, status=PromiseStatus.OPEN)
        .prefetch_related("documents")
        .order_by("promised_for", "id")
    )


def statement(link: PortalLink, *, as_of: dt.date) -> dict[str, Any]:
    """The statement of account: open invoices and credit notes, unallocated payments, balance per currency."""
    docs = list(
        Document.objects.filter(customer_id=link.customer_id, company_id=link.company_id, open_amount__gt=0).order_by(
            "due_date", "number"
        )
    )
    payments = list(
        Payment.objects.filter(
            customer_id=link.customer_id, company_id=link.company_id, unallocated_amount__gt=0, returned_on__isnull=True
        ).order_by("date", "reference")
    )
    balances: dict[str, Decimal] = {}
    rows = []
    for d in docs:
        sign = -1 if d.type == DocumentType.CREDIT_NOTE else 1
        balances[d.currency] = balances.get(d.currency, Decimal(0)) + sign * d.open_amount
        rows.append({"date": d.issue_date, "due": d.due_date, "label": d.number, "type": d.get_type_display(),
                     "amount": sign * d.amount, "open": sign * d.open_amount, "currency": d.currency,
                     "overdue": d.due_date < as_of and sign > 0})  # fmt: skip
    for p in payments:
        balances[p.currency] = balances.get(p.currency, Decimal(0)) - p.unallocated_amount
        rows.append({"date": p.date, "due": None, "label": p.reference, "type": _("Payment"), "amount": -p.amount,
                     "open": -p.unallocated_amount, "currency": p.currency, "overdue": False})  # fmt: skip
    return {
        "rows": rows,
        "balances": [Money(quantize(v, c), c) for c, v in sorted(balances.items())],
        "as_of": as_of,
    }


# --- staff side: what a user sees of a customer's portal (through core.scope) ---------------------------------

PORTAL_KINDS = ("portal_visit", "portal_payment")
SOURCED_KINDS = ("promise_made", "dispute_opened", "contact_updated")


def for_staff(user: Any, customer: Any, *, limit: int = 15) -> dict[str, Any]:
    """The customer's portal links and portal activity, within ``user``'s scope."""
    from relance.collections.models import Activity
    from relance.core import scope

    links = list(
        scope.restrict(user, PortalLink.objects.filter(customer_id=customer.pk)).select_related("contact")[:10]
    )
    activity = list(
        scope.restrict(
            user, Activity.objects.filter(customer_id=customer.pk, kind__in=PORTAL_KINDS + SOURCED_KINDS)
        ).order_by("-at", "-id")[: limit * 3]
    )
    activity = [a for a in activity if a.kind in PORTAL_KINDS or (a.data or {}).get("source") == "portal"][:limit]
    attachments = list(
        scope.restrict(user, DisputeAttachment.objects.filter(customer_id=customer.pk)).select_related("dispute")[:10]
    )
    return {"links": links, "activity": activity, "attachments": attachments, "can_manage": scope.can(user, "collect"),
            "now": clock.now()}  # fmt: skip
