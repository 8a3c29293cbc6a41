"""Reads on the ledger, always through the acting user's scope (relance.core.scope)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum

from relance.core import scope
from relance.core.models import AuditEntry
from relance.core.money import from_db
from relance.core.vocab import DocumentType

from .models import Allocation, Contact, Customer, Document, Payment


@dataclass(frozen=True)
class CustomerFilters:
    q: str = ""
    company: str = ""  # company code
    agency: str = ""  # agency code
    collector: int | None = None  # user id
    currency: str = ""
    overdue: bool = False
    updated_since: dt.datetime | None = None
    risk_class: str = ""  # "-" for customers without a class (dashboard drill-down)


def customers(user: Any, filters: CustomerFilters | None = None, *, as_of: dt.date | None = None) -> QuerySet[Customer]:
    """Customers the user may see, filtered. ``overdue`` means an open invoice past its due date at ``as_of``."""
    f = filters or CustomerFilters()
    qs = scope.restrict(user, Customer.objects.select_related("company", "agency", "collector", "sales_rep"))
    if f.q:
        qs = qs.filter(Q(name__icontains=f.q) | Q(reference__icontains=f.q) | Q(siren=f.q) | Q(vat_number__iexact=f.q))
    if f.company:
        qs = qs.filter(company__code=f.company.upper())
    if f.agency:
        qs = qs.filter(agency__code=f.agency.upper())
    if f.collector:
        qs = qs.filter(collector_id=f.collector)
    if f.currency:
        qs = qs.filter(Exists(Document.objects.filter(customer=OuterRef("pk"), currency=f.currency.upper())))
    if f.overdue:
        if as_of is None:
            raise ValueError("the overdue filter needs as_of")
        qs = qs.filter(
            Exists(
                Document.objects.filter(
                    customer=OuterRef("pk"), type=DocumentType.INVOICE, open_amount__gt=0, due_date__lt=as_of
                )
            )
        )
    if f.updated_since:
        qs = qs.filter(updated_at__gte=f.updated_since)
    if f.risk_class:
        qs = qs.filter(risk_class="" if f.risk_class == "-" else f.risk_class.upper())
    return qs.order_by("company__code", "reference")


def customer(user: Any, pk: Any) -> Customer:
    return scope.get_visible(
        user, Customer.objects.select_related("company", "agency", "collector", "sales_rep", "legal_entity"), pk=pk
    )


@dataclass(frozen=True)
class DocumentFilters:
    q: str = ""
    company: str = ""
    customer: int | None = None
    type: str = ""
    currency: str = ""
    status: str = ""  # "open" | "settled" | ""
    overdue: bool = False
    updated_since: dt.datetime | None = None
    # dashboard drill-down (relance.analytics): the customer's agency, collector and risk class ("-": none);
    # days past due at as_of (open items); in a dispute open now
    agency: str = ""
    collector: int | None = None
    risk_class: str = ""
    days_min: int | None = None
    days_max: int | None = None
    disputed: bool = False


def documents(user: Any, filters: DocumentFilters | None = None, *, as_of: dt.date | None = None) -> QuerySet[Document]:
    f = filters or DocumentFilters()
    qs = scope.restrict(user, Document.objects.select_related("company", "customer"))
    if f.q:
        qs = qs.filter(Q(number__icontains=f.q) | Q(customer__name__icontains=f.q))
    if f.company:
        qs = qs.filter(company__code=f.company.upper())
    if f.customer:
        qs = qs.filter(customer_id=f.customer)
    if f.type:
        qs = qs.filter(type=f.type)
    if f.currency:
        qs = qs.filter(currency=f.currency.upper())
    if f.status == "open":
        qs = qs.filter(open_amount__gt=0)
    elif f.status == "settled":
        qs = qs.filter(open_amount=0)
    if f.overdue:
        if as_of is None:
            raise ValueError("the overdue filter needs as_of")
        qs = qs.filter(open_amount__gt=0, due_date__lt=as_of, type=DocumentType.INVOICE)
    if f.updated_since:
        qs = qs.filter(updated_at__gte=f.updated_since)
    return _drill_down(qs, f, as_of)


def _drill_down(qs: QuerySet[Document], f: DocumentFilters, as_of: dt.date | None) -> QuerySet[Document]:
    if f.agency:
        qs = qs.filter(customer__agency__code=f.agency.upper())
    if f.collector:
        qs = qs.filter(customer__collector_id=f.collector)
    if f.risk_class:
        qs = qs.filter(customer__risk_class="" if f.risk_class == "-" else f.risk_class.upper())
    if f.days_min is not None or f.days_max is not None:
        if as_of is None:
            raise ValueError("the days past due filters need as_of")
        qs = qs.filter(open_amount__gt=0)
        if f.days_min is not None:
            qs = qs.filter(due_date__lte=as_of - dt.timedelta(days=f.days_min))
        if f.days_max is not None:
            qs = qs.filter(due_date__gte=as_of - dt.timedelta(days=f.days_max))
    if f.disputed:
        from relance.collections.models import Dispute

        qs = qs.filter(Exists(Dispute.objects.filter(documents=OuterRef("pk"), status="open")))
    return qs


def document(user: Any, pk: Any) -> Document:
    return scope.get_visible(user, Document.objects.select_related("company", "customer", "corrects"), pk=pk)


@dataclass(frozen=True)
class PaymentFilters:
    company: str = ""
    customer: int | None = None
    currency: str = ""
    unallocated: bool = False
    updated_since: dt.datetime | None = None


def payments(user: Any, filters: PaymentFilters | None = None) -> QuerySet[Payment]:
    f = filters or PaymentFilters()
    qs = scope.restrict(user, Payment.objects.select_related("company", "customer"))
    if f.company:
        qs = qs.filter(company__code=f.company.upper())
    if f.customer:
        qs = qs.filter(customer_id=f.customer)
    if f.currency:
        qs = qs.filter(currency=f.currency.upper())
    if f.unallocated:
        # cash waiting to be applied: a payment the bank returned is not (its amount went back out)
        qs = qs.filter(unallocated_amount__gt=0, returned_on__isnull=True)
    if f.updated_since:
        qs = qs.filter(updated_at__gte=f.updated_since)
    return qs


def payment(user: Any, pk: Any) -> Payment:
    return scope.get_visible(user, Payment.objects.select_related("company", "customer"), pk=pk)


def contacts(user: Any, customer_id: int) -> QuerySet[Contact]:
    """The contacts of one customer, if the customer is within the user's scope."""
    return scope.restrict(user, Contact.objects.filter(customer_id=customer_id))


def allocations(user: Any, **lookup: Any) -> QuerySet[Allocation]:
    return scope.restrict(user, Allocation.objects.select_related("target", "payment", "credit_note")).filter(**lookup)


def activity(user: Any, *, customer_id: int | None = None) -> QuerySet[AuditEntry]:
    qs = scope.restrict(user, AuditEntry.objects.all())
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs


@dataclass(frozen=True)
class Balance:
    currency: str
    invoices_open: Decimal
    credit_notes_open: Decimal
    unallocated_cash: Decimal
    overdue: Decimal

    @property
    def net(self) -> Decimal:
        return self.invoices_open - self.credit_notes_open - self.unallocated_cash


def customer_balances(user: Any, customer_obj: Customer, *, as_of: dt.date) -> list[Balance]:
    """Per currency: open invoices, open credit notes, unallocated cash and overdue of one customer (in scope)."""
    docs = documents(user, DocumentFilters(customer=customer_obj.pk)).filter(open_amount__gt=0)
    rows = docs.values("currency").annotate(
        inv=Sum("open_amount", filter=Q(type=DocumentType.INVOICE)),
        cn=Sum("open_amount", filter=Q(type=DocumentType.CREDIT_NOTE)),
        od=Sum("open_amount", filter=Q(type=DocumentType.INVOICE, due_date__lt=as_of)),
    )
    cash = dict(
        payments(user, PaymentFilters(customer=customer_obj.pk, unallocated=True))
        .values_list("currency")
        .annotate(s=Sum("unallocated_amount"))
    )
    out: dict[str, Balance] = {}
    for r in rows:
        c = r["currency"]
        out[c] = Balance(
            c, from_db(r["inv"], c), from_db(r["cn"], c), from_db(cash.pop(c, None), c), from_db(r["od"], c)
        )
    for c, s in cash.items():
        out[c] = Balance(c, from_db(0, c), from_db(0, c), from_db(s, c), from_db(0, c))
    return [out[c] for c in sorted(out)]


def check_invariants(customer_ids: list[int] | None = None) -> list[str]:
    """Recompute every derived amount from the allocations; return the violations (empty when sound).

    Not scoped: an operator/test tool (``relance check``), never shown to users.
    """
    problems: list[str] = []
    alloc_in = dict(Allocation.objects.values_list("target_id").annotate(s=Sum("amount")))
    alloc_out_cn = dict(
        Allocation.objects.filter(credit_note__isnull=False).values_list("credit_note_id").annotate(s=Sum("amount"))
    )
    alloc_out_pay = dict(
        Allocation.objects.filter(payment__isnull=False).values_list("payment_id").annotate(s=Sum("amount"))
    )
    docs = Document.objects.all()
    pays = Payment.objects.all()
    if customer_ids is not None:
        docs, pays = docs.filter(customer_id__in=customer_ids), pays.filter(customer_id__in=customer_ids)
    for d in docs.only("pk", "number", "type", "amount", "open_amount", "currency").iterator(chunk_size=5000):
        # allocations to it (payments, credit notes, non-cash settlements) and, for a credit note, from it
        used = from_db(alloc_in.get(d.pk, 0), d.currency) + from_db(alloc_out_cn.get(d.pk, 0), d.currency)
        expected = d.amount - from_db(used, d.currency)
        if expected != d.open_amount:
            problems.append(f"document {d.number}: open {d.open_amount} but amount - allocations = {expected}")
        if not 0 <= d.open_amount <= d.amount:
            problems.append(f"document {d.number}: open {d.open_amount} outside 0..{d.amount}")
    for p in pays.only("pk", "reference", "amount", "unallocated_amount", "currency").iterator(chunk_size=5000):
        expected = p.amount - from_db(alloc_out_pay.get(p.pk, 0), p.currency)
        if expected != p.unallocated_amount:
            problems.append(f"payment {p.reference}: unallocated {p.unallocated_amount} but expected {expected}")
    returned_live = (
        Allocation.objects.filter(payment__returned_on__isnull=False, reverses__isnull=True, reversed_by__isnull=True)
        .filter(payment__in=pays)
        .count()
    )
    if returned_live:
        problems.append(f"{returned_live} live allocations of returned payments")
    bad_currency = Allocation.objects.exclude(currency=F("target__currency")).count()
    if bad_currency:
        problems.append(f"{bad_currency} allocations in a currency other than their target's")
    cross = Allocation.objects.exclude(customer_id=F("target__customer_id")).count()
    if cross:
        problems.append(f"{cross} allocations whose customer differs from their target's")
    return problems


def counts() -> dict[str, int]:
    """Row counts for operators (`relance check`, `relance demo`)."""
    return {
        "customers": Customer.objects.count(),
        "documents": Document.objects.count(),
        "payments": Payment.objects.count(),
        "allocations": Allocation.objects.count(),
        "open_documents": Document.objects.filter(open_amount__gt=0).aggregate(n=Count("pk"))["n"],
    }
