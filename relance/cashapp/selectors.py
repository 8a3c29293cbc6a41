"""Reads of cash application, always through the acting user's scope (relance.core.scope)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from relance.core import scope
from relance.ledger.models import Customer, Document, Payment

from .models import BankLine, LineStatus

QUEUES = {
    "review": (LineStatus.REVIEW,),
    "unidentified": (LineStatus.UNIDENTIFIED, LineStatus.NEW),
    "applied": (LineStatus.APPLIED,),
    "returns": (LineStatus.REVERSAL,),
}


def lines(user: Any, queue: str = "review", company: str = "") -> QuerySet[BankLine]:
    """Bank lines of a queue the user may see: review (ranked by confidence), unidentified, applied, returns."""
    qs = scope.restrict(user, BankLine.objects.select_related("company", "customer", "statement", "payment"))
    qs = qs.filter(status__in=QUEUES.get(queue, QUEUES["review"]))
    if queue in ("review", "unidentified"):
        qs = qs.filter(amount__gt=0)
    if company:
        qs = qs.filter(company__code=company.upper())
    if queue == "review":
        return qs.order_by("-confidence", "-booking_date", "id")
    return qs.order_by("-booking_date", "-id")


def counts(user: Any) -> dict[str, int]:
    return {queue: lines(user, queue).count() for queue in QUEUES}


def line(user: Any, pk: Any) -> BankLine:
    return scope.get_visible(
        user, BankLine.objects.select_related("company", "customer", "statement", "payment"), pk=pk
    )


def unidentified_payments(user: Any) -> QuerySet[Payment]:
    """Payments without a customer and money left to allocate, not returned (company-level: managers see them)."""
    waiting = Payment.objects.filter(customer__isnull=True, unallocated_amount__gt=0, returned_on__isnull=True)
    return scope.restrict(user, waiting).order_by("-date", "-id")


def customer_choices(user: Any, company_id: int, q: str = "") -> QuerySet[Customer]:
    qs = scope.restrict(user, Customer.objects.filter(company_id=company_id))
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(reference__icontains=q)
    return qs.order_by("name")


def open_documents(user: Any, customer_id: int) -> QuerySet[Document]:
    return scope.restrict(
        user, Document.objects.filter(customer_id=customer_id, type="invoice", open_amount__gt=0)
    ).order_by("due_date", "number")
